"""Every grading kernel runs in a bubblewrap sandbox: student code cannot touch the grader.

nbgrader runs each submission's code as the instructor, with the instructor's files; its
FAQ says so (jupyter/nbgrader#483, #1386).  Here the grading *kernel* -- the process that
runs the student's cells -- starts inside `bubblewrap <https://github.com/containers/bubblewrap>`_
(Debian package ``bubblewrap``), the way PrairieLearn, otter-grader or the TU Wien
grader-service give each submission a container of its own.  Inside it the kernel

- sees the system (``/usr``, ``/etc``), the Python installation, the course environment's
  ``site-packages`` and the ``lab_utils`` package **read-only**, and the MovieLens folder
  read-only; nothing else of the machine: **not the course folder** (gradebook,
  ``source``/``solutions``, ``submitted``, other students' files), not the repository that
  holds the package, not the instructor's home;
- writes only its scratch folder (its working directory and ``$HOME``, removed afterwards)
  and a size-limited ``/tmp``;
- has **no network** (a network namespace of its own with only a loopback); it talks to
  the grader through IPC sockets in its scratch folder, the only channel it has;
- lives in a fresh PID namespace (it sees and signals only its own processes; when the
  grader, or the Dask worker that runs it, dies, the whole sandbox dies with it);
- runs under a user id of its own (when the grader is root) with no capability, and with
  limits on memory, processes and file size (:mod:`lab_utils.instructor.sandbox_exec`) and
  on wall time (the grader kills the sandbox).

A limit reached inside a cell makes that cell fail (``MemoryError``, ``BlockingIOError``):
nbgrader scores it 0 and grades the rest.  A kernel that dies (killed at the wall-time
limit, or by the student's own code) ends the notebook's execution: nbgrader reports the
submission as not graded, with the reason, and the run goes on.

Grades never come from inside: nbgrader, outside the sandbox, scores the executed
notebook it receives back over the kernel protocol and writes the gradebook itself.

Configured in ``nbgrader_config.py`` (``SandboxedExecute`` replaces nbgrader's ``Execute``
among the autograde preprocessors), so ``python -m lab_utils autograde`` on a local or a Dask
cluster, a plain ``nbgrader autograde`` and the formgrader's *Autograde* button all grade in
the sandbox.  Where bubblewrap is missing or cannot run (macOS, Windows, a container that
forbids namespaces), grading refuses to start with one line saying why, unless the sandbox is
switched off explicitly (``LAB_UTILS_SANDBOX=off``; the CLI's ``--no-sandbox``).

What a submission can still do is documented in docs/instructor.md ("Safe grading"): within
its own kernel it can tamper with Python itself to fake its own results; the sandbox
protects the grader, the course and the other students, not a cheat's own score.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade, is_solution
from traitlets import Bool, Integer, List, Unicode, default

from lab_utils.config import (
    DATA_DIR_ENV,
    SANDBOX_ENV,
    SANDBOX_MEMORY_ENV,
    SANDBOX_PROCESSES_ENV,
    SANDBOX_WALL_ENV,
)

#: Defaults of the limits (each configurable, see :class:`SandboxedKernelManager`).
DEFAULT_MEMORY_MB = 4096
DEFAULT_PROCESSES = 512  # processes and threads: a TensorFlow kernel uses ~40 threads
DEFAULT_WALL_S = 1800
DEFAULT_FILE_MB = 1024
DEFAULT_TMP_MB = 1024

#: Starts the log line that says why the sandbox killed a kernel (the grading report quotes it).
KILLED_MARK = "SandboxLimit:"

#: Why sandboxes of this process died, oldest first (a grading task reports the ones that
#: happened while it ran).
KILLS: list[str] = []

#: The whole sandbox is killed when its processes hold this many times ``memory_mb``.
TOTAL_MEMORY_FACTOR = 1.5

#: Past this many processes the monitor does not measure their proportional set size
#: (reading each one's memory map takes tens of milliseconds); the process limit bounds them.
PSS_MAX_PROCESSES = 32

#: The user ids a sandbox picks its own from, when the grader runs as root.
SANDBOX_UID_RANGE = (2_000_000, 2_999_999)

#: Environment variables a kernel keeps (exact names, or prefixes ending in ``_``); every
#: other one -- tokens, credentials, ``JUPYTERHUB_API_TOKEN``, ``PYTHONPATH`` -- is dropped.
ENV_KEEP = ("PATH", "LANG", "LANGUAGE", "TZ", "TERM", "LC_", "TF_", "KERAS_", "LAB_UTILS_",
            "NBGRADER_", "OMP_", "MKL_", "OPENBLAS_", "XLA_FLAGS", "GRPC_VERBOSITY",
            "MPLBACKEND", "PYTHONHASHSEED", "PYDEVD_", "JPY_SESSION_NAME",
            "CUDA_VISIBLE_DEVICES")

_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
                "/opt")


class SandboxUnavailable(RuntimeError):
    """Grading kernels cannot be sandboxed here; ``str()`` is one line saying why."""


def enabled(environ=None) -> bool:
    """False only when switched off explicitly (``LAB_UTILS_SANDBOX=off``)."""
    environ = os.environ if environ is None else environ
    return environ.get(SANDBOX_ENV, "on").strip().lower() not in {"off", "0", "no", "false"}


@functools.lru_cache(maxsize=1)
def unavailable_reason() -> str | None:
    """None if bubblewrap can sandbox a kernel on this machine, else one line saying why."""
    if not sys.platform.startswith("linux"):
        return (f"grading kernels are sandboxed with bubblewrap, which needs Linux (this is "
                f"{sys.platform}): grade on Linux, or pass --no-sandbox to grade without it "
                f"(student code then runs with your rights)")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return ("bubblewrap is not installed (no `bwrap` on PATH): install it "
                "(`apt-get install bubblewrap`), or pass --no-sandbox to grade without it "
                "(student code then runs with your rights)")
    probe = [bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "--new-session",
             "true"]
    try:
        proc = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap cannot run here ({exc}): pass --no-sandbox to grade without it"
    if proc.returncode != 0:
        why = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        return (f"bubblewrap cannot create namespaces here ({why}): allow unprivileged user "
                f"namespaces or run as root, or pass --no-sandbox to grade without it")
    return None


def require() -> None:
    """Raise :class:`SandboxUnavailable` unless sandboxing is possible or switched off."""
    if enabled():
        reason = unavailable_reason()
        if reason:
            raise SandboxUnavailable(reason)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def python_paths() -> list[Path]:
    """The Python installation and environment a kernel needs, read-only: the prefixes,
    the interpreter's real folder, and the ``sys.path`` entries inside them (never the
    current folder or a repository a test runner put on ``sys.path``)."""
    prefixes = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    prefixes.add(Path(os.path.realpath(sys.executable)).parent.parent)
    paths = set(prefixes)
    for entry in sys.path:
        if not entry:
            continue
        p = Path(entry).resolve()
        if p.is_dir() and any(_inside(p, prefix) for prefix in prefixes):
            paths.add(p)
    # keep only the outermost folders
    return sorted(p for p in paths if not any(q != p and _inside(p, q) for q in paths))


def package_dir() -> Path:
    """The ``lab_utils`` package the test cells import (an editable install maps it to
    the repository's folder: only that folder is shown, never the repository)."""
    import lab_utils

    return Path(lab_utils.__file__).resolve().parent


@functools.lru_cache(maxsize=1)
def data_dir() -> Path | None:
    """The MovieLens folder the grader would read (``$LAB_UTILS_DATA_DIR`` or the per-user
    cache), if it exists: shown read-only at the same path."""
    from lab_utils.datasets import get_data_home

    try:
        home = get_data_home()
    except Exception:  # pragma: no cover - an unusable cache folder: no data then
        return None
    return home.resolve() if home.is_dir() else None


def kernel_environment(environ: dict, scratch: Path) -> dict:
    """The kernel's environment: the allowed variables of ``environ``, then a home, a
    working folder and caches inside ``scratch``."""
    env = {k: v for k, v in environ.items()
           if any(k == keep or (keep.endswith("_") and k.startswith(keep)) for keep in ENV_KEEP)}
    home = scratch / "home"
    env.update({
        "HOME": str(home), "USER": "student", "LOGNAME": "student", "TMPDIR": "/tmp",
        "MPLCONFIGDIR": str(home / ".config" / "matplotlib"),
        "XDG_CACHE_HOME": str(home / ".cache"), "XDG_CONFIG_HOME": str(home / ".config"),
        "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"), "IPYTHONDIR": str(home / ".ipython"),
        "KERAS_HOME": str(home / ".keras"), "PYTHONDONTWRITEBYTECODE": "1",
    })
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    data = data_dir()
    if data is not None:
        env[DATA_DIR_ENV] = str(data)
    return env


def _seed_home(home: Path) -> None:
    """Copy the grader's Matplotlib font list into the kernel's home (else every kernel
    rebuilds it: ~1 s)."""
    source = Path(os.environ.get("MPLCONFIGDIR") or Path.home() / ".cache" / "matplotlib")
    target = home / ".config" / "matplotlib"
    target.mkdir(parents=True, exist_ok=True)
    for font_list in source.glob("fontlist-*.json"):
        shutil.copy(font_list, target / font_list.name)


def bwrap_command(command: list[str], scratch: Path, *, memory_mb: int, processes: int,
                  file_mb: int, tmp_mb: int, uid: int, gid: int, readonly=()) -> list[str]:
    """The bubblewrap command line that runs ``command`` sandboxed, ``scratch`` its only
    writable folder (bound at the same path, so the connection file and the IPC sockets
    have one name inside and out)."""
    args = [shutil.which("bwrap") or "bwrap", "--die-with-parent", "--new-session"]
    if os.getuid() == 0:  # no user namespace: the launcher switches to the sandbox's own uid
        args += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                 "--unshare-cgroup-try", "--cap-drop", "ALL",
                 "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:  # unprivileged: bubblewrap needs a user namespace (and grants no capability)
        args += ["--unshare-all"]
    for name in _SYSTEM_DIRS:
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
    shown = {Path(p) for p in readonly}
    shown.update(python_paths())
    shown.add(package_dir())
    data = data_dir()
    if data is not None:
        shown.add(data)
    system = [Path(s) for s in _SYSTEM_DIRS if Path(s).is_dir() and not Path(s).is_symlink()]
    shown = sorted(p for p in shown if not any(_inside(p, s) for s in system))
    # bubblewrap would create the folders above a bound one with mode 0700: the kernel's
    # user could not reach what is bound there
    parents = sorted({a for p in shown for a in p.parents if a not in (Path("/"), Path("/tmp"))},
                     key=lambda a: len(a.parts))
    # the kernel's own /proc, /dev (with a /dev/shm for joblib's and NumPy's semaphores) and
    # /tmp first: what is bound below may live under /tmp (a course environment there)
    args += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(tmp_mb * 2**20), "--tmpfs", "/dev/shm",
             "--perms", "1777", "--size", str(tmp_mb * 2**20), "--tmpfs", "/tmp"]
    for parent in parents:
        if not any(_inside(parent, p) for p in shown):
            args += ["--perms", "0755", "--dir", str(parent)]
    for path in shown:
        args += ["--ro-bind", str(path), str(path)]
    args += ["--bind", str(scratch), str(scratch), "--chdir", str(scratch / "work")]
    launcher = Path(__file__).with_name("sandbox_exec.py")
    python = os.path.realpath(sys.executable)
    args += ["--", python, "-I", "-S", str(launcher), str(memory_mb * 2**20), str(processes),
             str(file_mb * 2**20), str(uid), str(gid), "--", *command]
    return args


#: Scratch folders are named ``<prefix><pid of the grader>-<random>`` in the temporary folder.
SCRATCH_PREFIX = "lab-sandbox-"


def _sweep_scratch() -> None:
    """Remove the scratch folders of graders that died without cleaning up (a killed Dask
    worker): those whose grader process no longer exists."""
    import psutil

    for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        pid = folder.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _own_thread_count() -> int:
    """Processes and threads of this user id (what ``RLIMIT_NPROC`` counts)."""
    import psutil

    uid, count = os.getuid(), 0
    for proc in psutil.process_iter(["uids", "num_threads"]):
        info = proc.info
        if info["uids"] and info["uids"].real == uid:
            count += info["num_threads"] or 1
    return count


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel inside a bubblewrap sandbox.

    Limits (``c.SandboxedKernelManager.<name>`` in ``nbgrader_config.py``, or the
    environment variables named in :mod:`lab_utils.config`): ``memory_mb`` (default
    4096), ``max_processes`` (512, threads included), ``wall_time`` (1800 s for the whole
    notebook; nbgrader's cell timeout still cuts a single cell), ``file_mb`` and ``tmp_mb``.
    ``sandbox = False`` (``LAB_UTILS_SANDBOX=off``) starts a plain kernel.
    """

    sandbox = Bool(help="Start the kernel inside bubblewrap").tag(config=True)
    memory_mb = Integer(help="Memory (heap and private mappings) of the kernel, MiB").tag(
        config=True)
    max_processes = Integer(help="Processes and threads the kernel may have").tag(config=True)
    wall_time = Integer(help="Seconds the kernel may live; then it is killed").tag(config=True)
    file_mb = Integer(DEFAULT_FILE_MB, help="Largest file the kernel may write, MiB").tag(
        config=True)
    tmp_mb = Integer(DEFAULT_TMP_MB, help="Size of the kernel's /tmp, MiB").tag(config=True)
    extra_readonly = List(Unicode(), help="More folders shown read-only").tag(config=True)

    @default("sandbox")
    def _sandbox_default(self):
        return enabled()

    @default("memory_mb")
    def _memory_default(self):
        return int(os.environ.get(SANDBOX_MEMORY_ENV, DEFAULT_MEMORY_MB))

    @default("max_processes")
    def _processes_default(self):
        return int(os.environ.get(SANDBOX_PROCESSES_ENV, DEFAULT_PROCESSES))

    @default("wall_time")
    def _wall_default(self):
        return int(os.environ.get(SANDBOX_WALL_ENV, DEFAULT_WALL_S))

    scratch: Path | None = None
    killed_reason: str | None = None
    _stop: threading.Event | None = None
    _closing = False
    _at_limit: str | None = None
    _seen = "nothing: it died before the first check"

    async def _async_pre_start_kernel(self, **kw):
        if self.sandbox:
            reason = unavailable_reason()
            if reason:
                raise SandboxUnavailable(reason)
            self._make_scratch()
            self.transport = "ipc"
            self.ip = str(self.scratch / "kernel")
            self.cache_ports = False
            self.connection_file = str(self.scratch / "kernel.json")
            # the kernel is in a session of its own: a SIGINT sent to bwrap's process group
            # would not reach it, so interrupts go over the control channel
            self.kernel_spec.interrupt_mode = "message"
        return await super()._async_pre_start_kernel(**kw)

    def _make_scratch(self) -> None:
        _sweep_scratch()
        self.scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
        for sub in ("work", "home", "runtime"):
            (self.scratch / sub).mkdir()
        _seed_home(self.scratch / "home")
        if os.getuid() == 0:
            self._uid = secrets.randbelow(SANDBOX_UID_RANGE[1] - SANDBOX_UID_RANGE[0]) \
                + SANDBOX_UID_RANGE[0]
            for path in [self.scratch, *self.scratch.rglob("*")]:
                os.chown(path, self._uid, self._uid)
        else:
            self._uid = -1
        os.chmod(self.scratch, 0o711)  # bwrap (no capability) must reach work/

    def _copy_work_files(self, cwd) -> None:
        """The notebook's folder (the student's other submitted files) into ``work/``."""
        if not cwd or not Path(cwd).is_dir():
            return
        for path in Path(cwd).iterdir():
            if path.is_file() and path.stat().st_size < 50 * 2**20:
                target = self.scratch / "work" / path.name
                shutil.copy(path, target)
                if self._uid >= 0:
                    os.chown(target, self._uid, self._uid)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if not self.sandbox:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        self._copy_work_files(kw.get("cwd"))
        if self._uid >= 0:
            os.chown(self.connection_file, self._uid, self._uid)
            processes = self.max_processes
        else:  # RLIMIT_NPROC counts every process of the grader's own user id
            processes = _own_thread_count() + self.max_processes
        kw["env"] = kernel_environment(dict(kw.get("env") or os.environ), self.scratch)
        command = bwrap_command(kernel_cmd, self.scratch, memory_mb=self.memory_mb,
                                processes=processes, file_mb=self.file_mb, tmp_mb=self.tmp_mb,
                                uid=self._uid, gid=self._uid, readonly=self.extra_readonly)
        await super()._async_launch_kernel(command, **kw)
        self._stop = threading.Event()
        self._monitor = threading.Thread(target=self._watch, args=(self.provisioner.process,),
                                         name="sandbox-monitor", daemon=True)
        self._monitor.start()

    def _watch(self, process) -> None:  # noqa: C901
        """Every half second: kill the sandbox past its wall time, or when its processes
        together hold more than :data:`TOTAL_MEMORY_FACTOR` x ``memory_mb`` (their
        proportional set size: pages shared after a fork counted once).  One allocation past
        ``memory_mb`` already fails inside the cell (``RLIMIT_DATA``); this catches many
        processes that each stay under it."""
        import psutil

        start = time.monotonic()
        limit = TOTAL_MEMORY_FACTOR * self.memory_mb * 2**20
        while not self._stop.wait(0.5):
            if process.poll() is not None:
                self._died()
                return
            procs = []  # one scan of the process table per round (it reads all of /proc)
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(process.pid)
                procs = [root, *root.children(recursive=True)]
                tasks = sum(p.num_threads() for p in procs)
                self._seen = f"{tasks} processes and threads"
                if self._uid >= 0 and tasks >= self.max_processes:
                    self._at_limit = (f"its processes and threads reached the sandbox's "
                                      f"limit of {self.max_processes}")
            reason = None
            if time.monotonic() - start > self.wall_time:
                reason = f"still running after the sandbox's wall-time limit of {self.wall_time} s"
            else:
                try:
                    held = sum(p.memory_info().rss for p in procs)  # cheap, counts shared twice
                    self._seen += f", {held / 2**20:.0f} MiB"
                    if held > limit and len(procs) <= PSS_MAX_PROCESSES:
                        held = sum(p.memory_full_info().pss for p in procs)
                    elif held > limit:  # many processes: the process limit bounds them
                        held = 0
                except psutil.Error:
                    continue
                if held > limit:
                    reason = (f"its processes held {held / 2**20:.0f} MiB, over the sandbox's "
                              f"limit of {limit / 2**20:.0f} MiB")
            if reason:
                self._record_kill(f"the sandbox killed the kernel: {reason}")
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except OSError:
                    process.kill()
                return

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        process = getattr(self.provisioner, "process", None)
        if process is not None and process.poll() is not None:
            self._died()  # dead before it was asked to stop
        self._closing = True
        await super()._async_shutdown_kernel(now=now, restart=restart)

    # jupyter_client's AsyncKernelManager binds these public names to KernelManager's own
    # coroutines, which would skip the overrides above
    shutdown_kernel = _async_shutdown_kernel

    def _died(self) -> None:
        """The kernel exited on its own: say so once, with the limit it had hit or what the
        monitor last saw of its processes."""
        if self._closing or self.killed_reason is not None:
            return
        if self._at_limit:
            self._record_kill(f"the kernel died after {self._at_limit}")
        else:
            self._record_kill(f"the kernel died on its own (last seen with {self._seen})")

    def _record_kill(self, reason: str) -> None:
        """Say why the kernel died: in nbgrader's log (``nbgrader_ext.last_error`` quotes
        it) and in :data:`KILLS` (``cluster.grade_submission`` reports it)."""
        self.killed_reason = reason
        KILLS.append(reason)
        self.log.error("%s %s", KILLED_MARK, reason)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        process = getattr(self.provisioner, "process", None)
        if process is not None and process.poll() is not None:
            self._died()  # nbclient skips the shutdown of a dead kernel and cleans up
        await super()._async_cleanup_resources(restart=restart)
        if self._stop is not None:
            self._stop.set()
        if self.scratch is not None and not restart:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    cleanup_resources = _async_cleanup_resources


#: Run silently before each graded test cell: what a submission may have done to hide its
#: errors or to replace the checks is undone (IPython's error display, the checks module).
RESET_BEFORE_TEST = """\
def _lab_utils_reset():
    import sys
    ip = get_ipython()
    ip.set_custom_exc((), None)
    sys.excepthook = sys.__excepthook__
    for name in [m for m in sys.modules if m == "lab_utils.checks"]:
        del sys.modules[name]
    import lab_utils
    if "checks" in vars(lab_utils):
        delattr(lab_utils, "checks")
    from lab_utils import checks
    if "checks" in ip.user_ns:
        ip.user_ns["checks"] = checks
_lab_utils_reset()
del _lab_utils_reset
"""


class SandboxedExecute(Execute):
    """nbgrader's ``Execute`` with every kernel in the sandbox, and each graded test cell
    preceded by :data:`RESET_BEFORE_TEST` (run silently, no output, not in the notebook)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    async def async_execute_cell(self, cell, cell_index, execution_count=None,
                                 store_history=True):
        if cell.cell_type == "code" and is_grade(cell) and not is_solution(cell):
            await self._reset_kernel_state()
        return await super().async_execute_cell(cell, cell_index, execution_count,
                                                store_history)

    async def _reset_kernel_state(self) -> None:
        from jupyter_core.utils import ensure_async

        msg_id = self.kc.execute(RESET_BEFORE_TEST, silent=True, store_history=False,
                                 allow_stdin=False)
        deadline = self.timeout or 60
        while True:
            msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=deadline))
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return
