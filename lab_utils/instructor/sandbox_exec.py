"""The first program inside a grading sandbox: apply the limits, drop root, start the kernel.

Run by :mod:`lab_utils.instructor.sandbox` as
``python -I -S sandbox_exec.py MEMORY_BYTES MAX_PROCESSES FILE_BYTES UID GID -- KERNEL_CMD...``
inside bubblewrap.  It uses the standard library only (``-S``: no site-packages are needed
to get here) and replaces itself with the kernel (``exec``), which inherits:

- ``RLIMIT_DATA`` = MEMORY_BYTES: the heap and every private writable mapping (NumPy
  arrays, TensorFlow tensors).  An allocation past it fails inside the student's cell
  (``MemoryError``, ``ResourceExhaustedError``): that cell fails, the rest is graded;
- ``RLIMIT_NPROC`` = MAX_PROCESSES: processes *and threads* of the kernel's user id, so a
  fork bomb gets ``BlockingIOError`` in the student's cell.  The kernel runs under a user
  id of its own (UID, chosen per sandbox by the grader when it runs as root, which the
  kernel ignores this limit for); unprivileged, it is the grader's own count plus the
  allowance;
- ``RLIMIT_FSIZE`` = FILE_BYTES per file, no core dumps.

It hides the grader's pid from ipykernel's parent poller (the kernel's parent is the
sandbox's init).  Then, when started as root, it drops to UID/GID with no supplementary
groups (and so loses every capability).  A UID of -1 keeps the current user.
"""

import os
import resource
import sys


def main(argv: list[str]) -> None:
    memory, processes, file_bytes, uid, gid = (int(v) for v in argv[:5])
    if argv[5] != "--" or len(argv) < 7:
        sys.exit("usage: sandbox_exec.py MEMORY PROCESSES FILE_BYTES UID GID -- CMD...")
    command = argv[6:]
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    if processes > 0:
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    if file_bytes > 0:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if os.getuid() == 0 and uid >= 0:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        if os.getuid() == 0 or os.geteuid() == 0:  # pragma: no cover - setuid failed silently
            sys.exit("sandbox: could not drop root")
    # the kernel's parent is the sandbox's init (pid 1 in its namespace): told of any other
    # parent, ipykernel would take itself for an orphan and exit; told of none, it prints a
    # console banner.  "1" means neither (the sandbox dies with the grader anyway).
    os.environ["JPY_PARENT_PID"] = "1"
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
