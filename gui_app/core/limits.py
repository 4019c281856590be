"""Every limit a project, data or model file is held to, with the reason for each.

A project file is something people share: a teacher mails a lesson, a student downloads
one. It must not be able to exhaust memory, hang the program, or keep it busy for minutes.
Each limit is checked *before* the work it guards starts, and each breach becomes a
message that says what was expected, what was received and how to fix it.

The numbers are generous for real work (the largest lesson uses a few hundred thousand
parameters and 60,000 samples) and small enough that the worst a file can ask for ends in a
few seconds, or is refused, on a 2-core, 8 GB laptop.
"""

from __future__ import annotations

import os

# -- files ----------------------------------------------------------------------------------

#: A project is a small JSON file; weights are kept beside it. The largest lesson is 3 KB.
MAX_PROJECT_BYTES = 20 * 1024 * 1024
#: A CSV file is read whole into memory and parsed in Python (about 50 bytes of Python
#: objects per byte of text): 200 MB of CSV is already several GB while parsing.
MAX_CSV_BYTES = 200 * 1024 * 1024
#: Rows of a CSV file: Python parses about 100,000 short rows a second here, so this bounds
#: a parse at about 20 s (the generated sets stop at a million samples too).
MAX_CSV_ROWS = 2_000_000
#: An .npz file on disk. Its arrays are checked separately (MAX_ARRAY_BYTES), since a small
#: compressed file can inflate to gigabytes (a 2.9 MB file once claimed 5.9 GB).
MAX_NPZ_BYTES = 4 * 1024 * 1024 * 1024
#: The largest single array, after loading, and all arrays of one data file together.
#: MNIST as float32 is 188 MB; CIFAR-10 is 737 MB.
MAX_ARRAY_BYTES = 2 * 1024 * 1024 * 1024
#: Members of an .npz archive: x, y, x_train, y_train, x_test, y_test are all LayerLab reads.
MAX_NPZ_MEMBERS = 64
#: A path longer than this is not a real file name (Linux's PATH_MAX is 4096).
MAX_PATH_CHARS = 1024

# -- folders of images (data source "images"), scanned by core/images.py ---------------------

#: Image files in one folder. The scan reads two small pieces of every file (its header
#: and its last bytes): 20,000 files take under a second here, so this bounds a scan at
#: tens of seconds on a slow disk. Larger sets are better trained from a script.
MAX_IMAGE_FILES = 200_000
#: Everything the scan visits (images, other files, folders): a folder of millions of
#: small files must not keep the scan busy for minutes before it finds out.
MAX_IMAGE_FOLDER_ENTRIES = 400_000
#: Class subfolders: each is one output of the model.
MAX_IMAGE_CLASSES = 1_000
#: Folders nested inside a class folder (Keras reads sub-folders of a class too).
MAX_IMAGE_FOLDER_DEPTH = 16
#: One image file on disk; a camera's photo is a few MB.
MAX_IMAGE_FILE_BYTES = 64 * 1024 * 1024
#: Pixels of one image as its header gives them, before it is decoded: a 50 KB PNG can
#: claim 30,000 x 30,000 pixels, which decodes to 3.6 GB (RGBA) in each of tf.data's
#: parallel decoders. 25 million pixels (a 6000 x 4000 photo) is 100 MB decoded.
MAX_IMAGE_PIXELS = 25_000_000
#: Each side of `image_size`, the size every image is resized to: a batch of 32 images of
#: 1024 x 1024 x 3 floats is already 400 MB.
MAX_IMAGE_SIDE = 1024
#: The decoded, resized images of a folder are kept in memory after the first epoch when
#: they fit in this much (and in a quarter of the memory budget); a larger folder is read
#: from disk every epoch, so memory does not grow with the number of images.
IMAGE_CACHE_MAX_BYTES = 512 * 1024 * 1024

# -- trained model files (.keras, .h5), read by core/modelfile.py ----------------------------

#: A .keras archive or .h5 file on disk; the largest classic Sequential models are far below.
MODEL_MAX_FILE_BYTES = 4 * 1024**3
#: config.json of a .keras archive: the model's description, a few KB for real models.
MODEL_MAX_CONFIG_BYTES = 4 * 1024**2
#: metadata.json of a .keras archive: the Keras version and the date.
MODEL_MAX_METADATA_BYTES = 64 * 1024
#: Keras stores archive members uncompressed; a zip bomb is far above this ratio.
MODEL_MAX_COMPRESSION_RATIO = 100
#: Layers of an imported model (its own limit: it is checked before the project's).
MODEL_MAX_LAYERS = 1000
#: Nesting of the model's JSON description and of groups in the weights file.
MODEL_MAX_DEPTH = 24
#: Arrays in a weights file: a few per layer.
MODEL_MAX_ARRAYS = 100_000
#: Characters of a name or a string setting inside a model file.
MODEL_MAX_STRING = 256

# -- JSON -----------------------------------------------------------------------------------

#: A project nests about 6 levels deep (fit.callbacks[0].args...). Python's parser recurses
#: once per level and raises RecursionError near 1,000.
MAX_JSON_DEPTH = 32
#: Digits in a JSON integer. Python refuses to convert more than 4,300 digits (and spends
#: quadratic time on fewer); no setting needs more than 19 (a 64-bit seed is 20 at most).
MAX_INT_DIGITS = 24
#: Characters in one string (a layer name, a path, the description).
MAX_TEXT_CHARS = 10_000

# -- the model ------------------------------------------------------------------------------

#: Layers in one model. 700,000 layers took 48 s to summarise, and 10,001 layers trained for
#: 107 s before a RecursionError. The deepest classic Sequential nets have a few dozen.
MAX_LAYERS = 500
#: Any integer setting of a layer (units, filters, sizes): above this Keras overflows int32.
MAX_INT_ARG = 2**31 - 1
#: Parameters of one model: 100 million float32 weights are 400 MB, and Adam keeps two more
#: copies; `units: 10**9` once used 8.4 GB before failing.
MAX_PARAMS = 100_000_000
#: The memory a model and its data may plan to use, as a share of the memory available now.
MEMORY_SHARE = 0.6

# -- training -------------------------------------------------------------------------------

#: Keras and NumPy seeds are 32-bit.
MAX_SEED = 2**32 - 1
#: A class weight multiplies the loss; 10^6 is already far past any useful balance.
MAX_CLASS_WEIGHT = 1e6
#: Virtual epochs: passes over the data. `stop_point: 1e300` once used 10.6 GB.
MAX_STOP_POINT = 10_000
#: Virtual-epoch checkpoints, the same ceiling as fit.epochs.
MAX_CHECKPOINTS = 100_000
#: Samples in the index array that lays virtual-epoch passes end to end (8 bytes each).
MAX_VIRTUAL_SAMPLES = 50_000_000


#: Bytes per parameter while training: the float32 weight, its gradient, and the optimizer's
#: slots (Adam keeps two).
TRAINING_BYTES_PER_PARAM = 16


class LimitError(ValueError):
    """A file or setting beyond one of the limits above; the message says which and why."""


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable on Linux), or a cautious 4 GB guess."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 4 * 1024**3


def memory_budget() -> int:
    """The bytes a model and its data may plan to use: a share of the memory available now."""
    return int(available_memory() * MEMORY_SHARE)


def format_bytes(n: float) -> str:
    """1536 -> '1.5 KB', for messages."""
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} TB"  # pragma: no cover


def model_problem(total_params: int, layers: int = 0) -> str | None:
    """Why a model is too big to build here, or None. Checked before Keras builds anything."""
    if layers > MAX_LAYERS:
        return (f"expected at most {MAX_LAYERS} layers, got {layers:,}; remove layers")
    if total_params > MAX_PARAMS:
        return (f"expected at most {MAX_PARAMS:,} parameters, got {total_params:,}; use fewer "
                "units or filters, or a smaller input")
    need = total_params * TRAINING_BYTES_PER_PARAM
    budget = memory_budget()
    if need > budget:
        return (f"training {total_params:,} parameters needs about {format_bytes(need)} of "
                f"memory (weights, gradients and the optimizer's copies), and this computer has "
                f"about {format_bytes(budget)} to spare; use fewer units or filters")
    return None
