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


# -- Step Through: the training loop, one batch at a time (step_through.py) -----------------
STEP_ACTION_TIP = ("Train one batch at a time and see each step: the batch's points, the "
                   "loss on the batch, every weight's gradient and its update (w <- w - lr*g "
                   "for SGD), and the boundary after the step")
STEP_INTRO = ("Each press of N trains the model on the next batch, for real: the loss on "
              "the batch, each weight's gradient g and its update, and the boundary after "
              "the step.")
STEP_READY = "Press N (or Next batch) to train on the first batch."
STEP_WORKING = "Training on the batch..."
STEP_ENGINE_LOADING = ("The training engine is still loading Keras; the step runs as soon "
                       "as it is ready.")
STEP_RUN_GOING = "A training run is going: stop it, or wait for it to end, to step again."
STEP_PROJECT_CHANGED = ("The model or data changed: the next step starts a new pass from "
                        "its first batch, on the model's new weights.")
STEP_NEXT_TIP = "Train on the next batch of the pass (N)"
STEP_RESTART_TIP = "Start a new pass from its first batch, on the current weights"
STEP_CLOSE_TIP = ("End Step Through (Esc). Fresh weights go back to fresh, so Train still "
                  "starts from new weights; trained weights keep the steps, and Continue "
                  "goes on from them")
STEP_VARIABLE_TIP = "The layer's kernel (input-to-unit weights) or its bias, whose numbers to show"
STEP_INDEX_TIP = "Which weight of that kernel or bias (counted row by row); or click a bar"
STEP_SCOPE_TIP = "Bars for the picked kernel or bias only, or for every weight of the model"
STEP_BEFORE_TIP = "Show the boundary before the step instead of after it"
STEP_BARS_TIP = ("One bar per weight: its gradient g (top) and its update, after - before "
                 "(bottom); the picked weight is dark, under the dashed line. With all "
                 "weights, grey lines part the layers' kernels and biases. Click a bar to "
                 "pick its weight")
STEP_BOUNDARY_TIP = ("The model's prediction over the two inputs; the batch's points are "
                     "ringed in black")


def step_counter(epoch: int, batch: int, batches: int, step: int) -> str:
    return f"Pass {epoch + 1}, batch {batch + 1} of {batches} (step {step})"


def step_loss(loss: float, size: int) -> str:
    return f"Loss on this batch of {size}: {loss:.6f} (at the weights before the step)"


def step_rule(optimizer: str, rate: float | None, plain: bool, notes: tuple[str, ...]) -> str:
    lr = f"{rate:g}" if rate is not None else "none"
    if plain:
        return f"{optimizer}, learning rate {lr}: every weight moves by w <- w - lr * g."
    why = f" ({', '.join(notes)})" if notes else ""
    return (f"{optimizer}{why}, learning rate {lr}: the update is not lr * g for this "
            "optimizer (it keeps running averages of the gradients, or changes them), so "
            "the update shown is the real one, after - before.")


def step_done(size: int, restarted: bool) -> str:
    start = "A new pass began. " if restarted else ""
    return f"{start}Trained on {size} points (ringed). Press N for the next batch."


def step_failed(reason: object) -> str:
    return (f"Could not train on the batch: {reason}. The weights are as they were; fix "
            "the model, data or settings and press N again.")


def step_unavailable(reason: str) -> str:
    return f"Step Through is not available. {reason}"


# -- comparing two models (compare.py) --------------------------------------------------------
COMPARE_ACTION_TIP = ("Train a second model beside this one on the same data and seed: both "
                      "decision boundaries side by side, both runs' curves on shared axes")
COMPARE_TRAIN_TIP = "Train A and B at once, from fresh weights, each for its own epochs."
COMPARE_STOP_TIP = "Stop both runs after the current batch; what they drew stays."
COMPARE_DUPLICATE_TIP = ("B becomes a copy of A (the project in the main window), to change "
                         "here: hidden units, activation, learning rate, epochs.")
COMPARE_OPEN_TIP = ("B becomes another project file (its model, compile settings and "
                    "epochs); it trains on A's data with A's seed.")
COMPARE_EXPORT_TIP = "Save the whole comparison (titles, both pictures, the curves) as one PNG."
COMPARE_UNITS_TIP = ("One number per hidden Dense layer, such as 16, 8 (two layers); empty "
                     "for none. The output layer stays as it is.")
COMPARE_UNITS_NOT_DENSE = ("B's model does not end in Dense layers only, so its hidden layers "
                           "cannot be changed here: change it in the main window, save it, "
                           "and open that file as B.")
COMPARE_NO_RATE = "B's optimizer takes no plain learning rate to change here."
COMPARE_NO_B = "Choose B with the buttons above."
COMPARE_B_COPY = "B is a copy of A, changed here (the copy is not saved):"
COMPARE_CHOOSE_B = ("Choose B: Duplicate This One (a copy of A to change here), or Open a "
                    "Project File.")
COMPARE_READY = ("Press Train A and B: both train from fresh weights, each for its own "
                 "epochs.")
COMPARE_CHANGED = ("A or B changed since these runs (the titles name the runs shown): press "
                   "Train A and B to compare the new ones.")
COMPARE_MAIN_RUNNING = ("A run is going in the main window: stop it, or wait for it to end, "
                        "before comparing.")
COMPARE_ENGINE_NOT_READY = ("The training engine is still loading Keras (the main window's "
                            "status bar says when it is ready); Train A and B waits for it.")
COMPARE_STARTING = "Training A and B on the same data..."
COMPARE_STOPPING = "Stopping both runs after the current batch..."
COMPARE_DONE = ("Both runs ended. Click a picture to predict a point with that side's model, "
                "or Export PNG to keep the comparison.")
COMPARE_ENGINE_RESTARTED = ("The training engine was restarted, so both runs ended; the curves "
                            "so far are kept. Press Train A and B to compare again.")
COMPARE_PREDICT_FIRST = "Train A and B first, then click to predict."
COMPARE_CANNOT_OPEN = "Cannot compare with this project"
COMPARE_EXPORT_FAILED = "Cannot export the comparison"


def compare_shared(data: str, seed: str, boundary: str = "") -> str:
    tail = f" Pictures: {boundary}" if boundary else ""
    return (f"Both train on A's data ({data}) with A's {seed}, so they see the same samples "
            f"in the same order; B's own data and seed settings are not used.{tail}")


def compare_a_about(name: str) -> str:
    return (f"A is the project open in the main window ({name}). Change A there; Train reads "
            "it as it is at that moment.")


def compare_b_file(name: str) -> str:
    return f"B is {name} (changes here are not saved to it):"


def compare_not_opened(name: str) -> str:
    return f"{name} was not opened as B; B is as it was."


def compare_a_blocked(reason: str) -> str:
    return f"A cannot train yet: {reason}"


def compare_b_errors(first: str, count: int) -> str:
    more = f" (and {count - 1} more)" if count > 1 else ""
    return (f"B cannot train: {first.rstrip('.')}{more}. Change B here, or fix that file and "
            "open it again.")


def compare_could_not_start(name: str, reason: object) -> str:
    return f"{name} could not start: {str(reason).rstrip('.')}. Press Train A and B to try again."


def compare_failed(names: list[str]) -> str:
    which = " and ".join(names)
    return (f"{which} did not finish: the reason is under {'its' if len(names) == 1 else 'each'} "
            "picture. The window is still usable: change B, or fix A in the main window, "
            "and train again.")


def compare_no_picture(why: str) -> str:
    return (f"No boundary picture: {why}. The picture is drawn for inputs of one or two "
            "features; the curves still compare A and B, and the main window's Boundary tab "
            "draws a plane through wider inputs.")


def compare_exported(path: object) -> str:
    return f"Exported the comparison to {path}."


def compare_export_failed(target: object, reason: object) -> str:
    return f"Expected to write {target}, got an error: {reason}. Choose another folder."
