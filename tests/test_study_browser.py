"""A real browser (Debian's headless Chromium driven by Selenium through Debian's chromedriver;
nothing downloads a browser): a Prolific worker arrives, answers by mouse and by keyboard,
reloads midway, finishes and lands on the completion URL; the stored answers are those given.
Saves the screenshots the README shows (docs/study/*.png, with
SALIENCY_REPRO_SCREENSHOTS=docs/study; a temporary folder otherwise)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from saliency_repro.crowd.export import IDK_TEXT
from saliency_repro.study import db
from saliency_repro.study.harness import ServerProcess
from saliency_repro.study.service import Study
from saliency_repro.study.simulate import synthetic_design

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
#: the screenshots the README shows are refreshed only when asked (a test run must not rewrite
#: tracked files): SALIENCY_REPRO_SCREENSHOTS=docs/study; otherwise a temporary folder
SHOTS = Path(os.environ.get("SALIENCY_REPRO_SCREENSHOTS") or tempfile.mkdtemp(prefix="study-shots-"))


def skip_or_fail(msg: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{msg} (CI=true: a missing dependency is a failure)")
    pytest.skip(msg)


@pytest.fixture
def driver():
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        skip_or_fail(f"{CHROMIUM} / {CHROMEDRIVER} missing (install the Debian packages "
                     f"chromium and chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a browser or driver
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=1100,820", "--no-first-run", "--disable-extensions"):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    d.set_page_load_timeout(60)
    yield d
    d.quit()


@pytest.mark.timeout(600)
def test_prolific_worker_in_a_real_browser(driver, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    root = tmp_path / "crowd" / "topic"
    labels, _ = synthetic_design(root, n_samples={"correct": 6, "misclassified": 3},
                                 methods=("ig", "random"), ks=(3, 10), workers_per_task=2,
                                 tasks_per_worker=6)
    url = f"sqlite:///{tmp_path / 'study.sqlite'}"
    server = ServerProcess(["--design-dir", str(root), "--dataset", "topic", "--label-names",
                            ",".join(labels), "--db", url, "--token", "tok"], tmp_path / "server.log")
    done_url = f"{server.base}/done?cc=BROWSER1"
    server.args += ["--completion-url", done_url]
    server.start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    given: dict[str, str] = {}
    choices = [*labels, IDK_TEXT]
    keys = [str(i + 1) for i in range(len(labels))] + ["0"]
    try:
        driver.get(f"{server.base}/start?PROLIFIC_PID=60a1b2c3d4e5f6a7b8c9d0e1&STUDY_ID=st01"
                   f"&SESSION_ID=se01")
        assert "/b/" in driver.current_url
        text = driver.find_element(By.TAG_NAME, "body").text
        for name in labels:  # the instructions name every label
            assert name in text
        n_tasks = int(driver.find_element(By.ID, "progress-text").text.split(" of ")[1])

        def current() -> str:
            return driver.find_element(By.NAME, "task_id").get_attribute("value")

        def wait_moved(old_task: str) -> None:
            WebDriverWait(driver, 30).until(
                lambda d: d.current_url.startswith(done_url)
                or (d.find_elements(By.NAME, "task_id") and current() != old_task))

        step = 0
        while not driver.current_url.startswith(done_url):
            tid = current()
            assert driver.find_element(By.ID, "progress-text").text == f"Task {step + 1} of {n_tasks}"
            assert "." in driver.find_element(By.ID, "display").text  # hidden words are dots
            i = step % len(choices)
            if step == 0:
                driver.save_screenshot(str(SHOTS / "task_page.png"))
            if step % 2 == 0:  # by mouse
                [b for b in driver.find_elements(By.CSS_SELECTOR, ".choices button")
                 if b.get_attribute("value") == choices[i]][0].click()
            elif step == 3:  # keyboard only: Tab to the button, Enter
                body = driver.find_element(By.TAG_NAME, "body")
                body.click()
                for _ in range(len(choices) + 2):
                    active = driver.switch_to.active_element
                    if active.get_attribute("value") == choices[i]:
                        break
                    active.send_keys(Keys.TAB)
                assert driver.switch_to.active_element.get_attribute("value") == choices[i]
                driver.switch_to.active_element.send_keys(Keys.ENTER)
            else:  # by the keyboard shortcut
                driver.find_element(By.TAG_NAME, "body").send_keys(keys[i])
            given[tid] = choices[i]
            wait_moved(tid)
            step += 1
            if step == 2:  # reload midway: the answers so far are kept, the page goes on
                driver.refresh()
                assert current() != tid
                assert driver.find_element(By.ID, "progress-text").text == f"Task 3 of {n_tasks}"
            if step == 4:
                driver.set_window_size(390, 844)  # a phone
                driver.save_screenshot(str(SHOTS / "task_phone.png"))
                buttons = driver.find_elements(By.CSS_SELECTOR, ".choices button")
                width = driver.execute_script("return document.documentElement.clientWidth")
                assert all(b.rect["x"] >= 0 and b.rect["x"] + b.rect["width"] <= width + 1
                           for b in buttons)  # every button fits the phone's width
                assert driver.execute_script(
                    "return document.documentElement.scrollWidth <= window.innerWidth")
                driver.set_window_size(1100, 820)
        assert driver.current_url == done_url
        assert "BROWSER1" in driver.find_element(By.TAG_NAME, "body").text
        driver.save_screenshot(str(SHOTS / "completion.png"))
        # the researcher's view: this worker's batch counted
        driver.get(f"{server.base}/admin?token=tok")
        assert "Study topic: progress" in driver.title + driver.find_element(By.TAG_NAME, "h1").text
        assert "1 done" in driver.find_element(By.TAG_NAME, "body").text
        driver.save_screenshot(str(SHOTS / "researcher_view.png"))
    finally:
        server.stop()
        shutil.copy(tmp_path / "server.log", tmp_path / "server.log.keep")
    assert len(given) == n_tasks
    stored = Study(db.engine_for(url)).answers_frame()
    assert dict(zip(stored["task_id"], [choices[a] for a in stored["answer"]], strict=True)) == given
    assert stored["counted"].all() and (stored["worker_id"] == "60a1b2c3d4e5f6a7b8c9d0e1").all()
