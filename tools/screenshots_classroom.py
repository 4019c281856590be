"""Screenshots of a lesson as a class sees it, at three screen sizes, normal and presenting.

    tools/screenshots_classroom.py [out_dir] [--sizes 1024x768,1280x720,1920x1080]
        [--lesson 02a_circle] [--scale 1.0]

Each size runs on its own X server (Xvfb, through xvfb-run), because present mode goes
full screen and only a real screen has a size. For each size the circle lesson (by
default) is opened in a maximised window and trained; the run is paused part way and
shot in the normal layout and in present mode, then resumed to its end and shot again.
That makes four files per size:

    classroom_<W>x<H>_<normal|present>_<during|after>.png

Needs Xvfb (apt-get install xvfb) and the xcb libraries the app's platform check names.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))


def shoot(out: Path, size: str, lesson: str, scale: float) -> int:
    """Runs inside one X server of the given size."""
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    from shot_setup import prepare, wait_for

    prepare([str(out)])
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    from PySide6.QtWidgets import QApplication

    from gui_app.core.lessons import list_examples
    from gui_app.ui.main_window import MainWindow
    from gui_app.ui.text_scale import text_scale

    app = QApplication.instance() or QApplication([])

    def wait(predicate, seconds: float) -> bool:
        return wait_for(app, predicate, seconds)

    def settle(seconds: float = 0.8) -> None:
        wait(lambda: False, seconds)

    window = MainWindow(load_keras=True)
    window.confirm_discard = lambda: True
    screen = app.primaryScreen().geometry()

    def fill_screen() -> None:
        # Xvfb has no window manager to maximise a window or make it full screen: the
        # window is given the screen's geometry by hand, as a window manager would
        window.setGeometry(screen)

    window.show()
    fill_screen()
    if scale != 1.0:
        text_scale().set_factor(scale)
    if not wait(lambda: window.keras_ready, 180):
        print("the engine never said hello", file=sys.stderr)
        return 1
    path = next(x.path for x in list_examples() if x.path.name.startswith(lesson))
    window.files.open_example(path, confirm=False)
    wait(lambda: not window.controller.data_loading, 60)
    panel = window.training_panel
    ended: list = []
    panel.runEnded.connect(ended.append)
    epochs = window.controller.project.fit.epochs
    panel.train()
    wait(lambda: panel.session is not None and panel.session.epoch >= max(3, epochs // 3), 300)
    panel.toggle_pause()
    wait(lambda: panel.state == "paused", 30)
    settle()
    name = f"classroom_{size}"
    window.grab().save(str(out / f"{name}_normal_during.png"))
    window.presenter.enter()
    fill_screen()
    settle(1.2)
    window.grab().save(str(out / f"{name}_present_during.png"))
    window.presenter.leave()
    fill_screen()
    settle()
    panel.toggle_pause()
    wait(lambda: bool(ended), 600)
    settle()
    window.grab().save(str(out / f"{name}_normal_after.png"))
    window.presenter.enter()
    fill_screen()
    settle(1.2)
    window.grab().save(str(out / f"{name}_present_after.png"))
    window.presenter.leave()
    panel.shutdown()
    window.close()
    print(f"{size}: 4 screenshots in {out}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(ROOT / "resources" / "screenshots"))
    parser.add_argument("--sizes", default="1024x768,1280x720,1920x1080")
    parser.add_argument("--lesson", default="02a_circle")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--inside", help=argparse.SUPPRESS)  # the size, within xvfb-run
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.inside:
        return shoot(out, args.inside, args.lesson, args.scale)
    status = 0
    for size in args.sizes.split(","):
        command = ["xvfb-run", "-a", "-s", f"-screen 0 {size}x24", sys.executable,
                   __file__, str(out), "--inside", size, "--lesson", args.lesson,
                   "--scale", str(args.scale)]
        status |= subprocess.run(command, check=False).returncode
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
