"""What the window says about training and its engine, in one place.

Each message says what happened and what to do next, in the person's words, and none
shows a traceback. The widgets that show them (the training panel, the status bar, the
Keras label, the device picker) only choose which to show; the wording lives here so
that it stays consistent and can be reviewed, and tested, on its own.
"""

from __future__ import annotations

# -- why Train is not available -------------------------------------------------------------
CLOSING = "The window is closing."
DATA_LOADING = "The data is still loading; train when it is ready (see the Data tab)."
WEIGHTS_LOADING = "Loading the trained weights saved with the project..."
NO_DATA = "There is no data to train on: choose a data source in the Data tab."
NO_LAYERS = "The model has no layers: add some from the Layers palette, then train."


def data_unusable(error: str) -> str:
    return f"The data cannot be used: {error} Fix it in the Data tab, then train."


def fix_errors_first(first: str, count: int) -> str:
    more = f" (and {count - 1} more)" if count > 1 else ""
    return f"Fix the errors under 'Checks before training' first: {first}{more}"


# -- how a run ended ------------------------------------------------------------------------
def capital(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}"


def engine_ended_run(message: str) -> tuple[str, str, str]:
    """(line, dialog title, dialog text) for a run whose engine process ended."""
    return (f"Training stopped: {message}.", "The training process ended",
            f"{capital(message)}.")


def run_failed(message: str) -> tuple[str, str, str]:
    return (f"Training failed: {message}. The window is still usable: fix the model, data "
            "or settings and train again.", "Training failed", f"Training failed: {message}.")


def loss_not_a_number(message: str) -> tuple[str, str, str]:
    return (f"Training stopped: {message}.", "The loss is not a number",
            f"Training stopped: {message}.")


def headline(text: str) -> str:
    """The first sentence of a message (up to and with its full stop), for the status bar."""
    cut = text.find(". ")
    return text if cut < 0 else text[:cut + 1]


def run_stopped(message: str) -> str:
    return f"Stopped: {message}. Continue trains on from here."


def run_done(message: str, images: bool = False) -> str:
    if images:  # a folder of images: its boundary plane's points are a sample of it
        return (f"Done: {message}. Continue for more epochs, Evaluate on held-out data (and "
                "see the mistakes), click an image's point on the boundary plane, or "
                "predict an image in the Predict tab.")
    return (f"Done: {message}. Continue for more epochs, Evaluate on held-out data, or click "
            "the boundary to predict a point.")


def could_not_start(reason: object) -> str:
    return f"Could not start training: {reason}."


def saved_weights_failed(reason: object) -> str:
    return (f"Could not load the saved weights: {reason}; training starts from fresh "
            "weights.")


# -- the engine process ---------------------------------------------------------------------
ENGINE_LOADING = "Loading Keras..."
ENGINE_LOADING_TIP = ("Keras and TensorFlow load in the training engine, a process of its "
                      "own; the editor works meanwhile, training waits for them.")
ENGINE_RESTARTING = "Restarting the training engine..."
ENGINE_RESTARTED_BY_REQUEST = ("The training engine was restarted; the curves so far and "
                               "your project are kept. Press Train to start again.")
ENGINE_NOT_ANSWERING = "The training engine is not answering"
ENGINE_NOT_ANSWERING_LINE = ("The training engine is not answering: Training > Restart "
                             "Training Engine starts a fresh one.")
ENGINE_CANNOT_LOAD = "Keras could not be loaded"
RESTART_ACTION_TIP = ("End the training process and start a fresh one (when it stopped "
                      "answering); your project and the curves so far are kept.")


def engine_died_tip(reason: str) -> str:
    return (f"{reason}. A fresh training process is starting; your project and the curves "
            "so far are kept.")


def engine_died_line(reason: str) -> str:
    return f"{capital(reason)}. A fresh one is starting; your project is kept."


def engine_silent_tip(seconds: float) -> str:
    return (f"No sign of life from the training process for {seconds:.0f} s while it should "
            "be training. Training > Restart Training Engine ends it and starts a fresh one; "
            "your project and the curves so far are kept.")


def engine_cannot_load_tip(message: str) -> str:
    return (f"Expected Keras and TensorFlow to import, got {message}. The editor works; "
            "training needs them: reinstall LayerLab (or run `pip install keras tensorflow`).")


def keras_loaded(version: str, seconds: float, drift: list[str]) -> str:
    note = f"Keras {version} loaded in {seconds:.1f} s."
    if drift:
        note += " Defaults updated from Keras: " + "; ".join(drift)
    return note


# -- the device -----------------------------------------------------------------------------
def device_next_train(label: str) -> str:
    return (f"Device: {label}. The next Train builds the model there, from new weights "
            "(trained weights are not moved between devices).")


def device_chosen(label: str) -> str:
    return f"Training will run on {label}."


# -- the learning-rate finder (lr_finder.py) ------------------------------------------------
SEARCHING_BANNER = ("Searching hyperparameters: editing and training wait until the search "
                    "ends (Stop in the Search window).")
RUN_BANNER = "Training: editing is locked until the run ends. Space pauses, Esc stops."
FINDING_BANNER = ("Finding a learning rate: editing is locked until the sweep ends (Stop in "
                  "the finder ends it at once).")
FIND_LR_ACTION_TIP = ("Train a copy of the model with the learning rate growing from 1e-7 to "
                      "10, draw the loss against the rate and suggest a rate; the model and "
                      "its weights stay as they are")
FIND_LR_INTRO = ("Trains a copy of the model for 100 to 300 batches with the learning rate "
                 "growing from 1e-7 to 10, and draws the smoothed loss against the rate. "
                 "Your model, its weights and its curves stay as they are.")
FIND_LR_READY = "Press Start to sweep the learning rate."
FIND_LR_NO_WEIGHTS = "There are no trained weights yet: train the model first."
FIND_LR_STARTING = "Starting the sweep: building a copy of the model..."
FIND_LR_STOPPING = "Stopping after the current batch..."
FIND_LR_STOPPED_EARLY = "Stopped before the sweep began; press Start to sweep."
FIND_LR_RUN_GOING = "A training run is going: stop it before finding a learning rate."


def finding(batches: int, steps: int, rate: float) -> str:
    return f"Sweeping: batch {batches} of {steps}, learning rate {rate:.2g}..."


def finder_suggests(rate: float, rule_words: str) -> str:
    return f"Suggested learning rate: {rate:g}, by {rule_words}."


def finder_failed(reason: object) -> str:
    return (f"Could not sweep the learning rate: {reason}. Your project is unchanged: fix "
            "the model, data or settings and press Start again.")


def rate_now(rate: object) -> str:
    return f"The project's learning rate now: {rate}."


def rate_used(rate: float, before: object) -> str:
    return (f"The project's learning rate is now {rate:g} (it was {before}); Edit > Undo "
            "puts it back.")


def rate_not_used(reason: str) -> str:
    return f"The learning rate was not changed: {reason}."
