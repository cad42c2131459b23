"""The line protocol of the C++ compare drivers (bench/*_compare_io.cpp, bench/compare_io.h):
one command per line on stdin, one answer line on stdout ("error ..." on failure), "quit" ends."""
import subprocess
import sys


class LineDriver:
    def __init__(self, path, who):
        self.who = who  # the calling script's name, for messages
        self.p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def ask_words(self, line):
        """Sends one command; returns the answer's words (exits on an error answer)."""
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        ans = self.p.stdout.readline().strip()
        if not ans or ans.startswith("error"):
            sys.exit(f"{self.who}: driver answered {ans!r} to {line!r}")
        return ans.split()

    def close(self):
        self.p.stdin.write("quit\n")
        self.p.stdin.flush()
        self.p.wait()
