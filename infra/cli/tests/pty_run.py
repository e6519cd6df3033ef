"""Runs a command under a pseudo-terminal of 120x30, as a user's terminal would, and copies
everything it draws to stdout; exits with the command's exit code. Usage: pty_run.py CMD [ARGS...]"""
import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
child = subprocess.Popen(sys.argv[1:], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
os.close(slave)
while True:
    try:
        data = os.read(master, 65536)
    except OSError:  # EIO: every writer closed the terminal
        break
    if not data:
        break
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
sys.exit(child.wait())
