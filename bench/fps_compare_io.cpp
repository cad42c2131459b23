// fps_compare_io: the pointgrad side of tools/compare/fpsample_cmp.py (FPS vs fpsample's bucket
// FPS on the same cloud, alternated rounds). Not a benchmark and not a test: a driver that reads
// commands on stdin, one per line, and answers one line on stdout each:
//   load PATH N        PATH: raw little-endian float32 [N, 3] (row-major) → "ok N"
//   fps OUT M START    fps(points [1, N, 3] float32, M, start index START), timed (wall clock,
//                      whole op call); writes the indices to OUT (raw int64 [M]) → "ms T"
//   quit
// Errors answer "error MESSAGE" and keep the driver alive.
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "ops/fps.h"
#include "ops/ops.h"

int main() {
  using namespace pg;
  Tensor pts;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    if (!(in >> cmd)) continue;
    if (cmd == "quit") break;
    try {
      if (cmd == "load") {
        std::string path;
        int64_t n = 0;
        PG_CHECK((in >> path >> n) && n > 0, "fps_compare_io: usage 'load PATH N'");
        std::vector<float> v(static_cast<size_t>(3 * n));
        std::ifstream f(path, std::ios::binary);
        PG_CHECK(f.good(), "fps_compare_io: cannot open ", path);
        f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
        PG_CHECK(f.gcount() == static_cast<std::streamsize>(v.size() * sizeof(float)), "fps_compare_io: ", path,
                 " holds fewer than ", n, " x 3 float32 values");
        pts = from_vector(v, {1, n, 3});
        std::cout << "ok " << n << std::endl;
      } else if (cmd == "fps") {
        std::string out;
        int64_t m = 0, start = 0;
        PG_CHECK((in >> out >> m >> start) && pts.defined(), "fps_compare_io: usage 'fps OUT M START' after 'load'");
        FpsOptions o;
        o.start = start;
        const auto t0 = std::chrono::steady_clock::now();
        const FpsResult r = fps(pts, m, o);
        const double t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        const std::vector<int64_t> idx = r.indices.to_vector<int64_t>();
        std::ofstream f(out, std::ios::binary);
        PG_CHECK(f.good(), "fps_compare_io: cannot write ", out);
        f.write(reinterpret_cast<const char*>(idx.data()), static_cast<std::streamsize>(idx.size() * sizeof(int64_t)));
        std::cout << "ms " << t << std::endl;
      } else {
        std::cout << "error unknown command '" << cmd << "'" << std::endl;
      }
    } catch (const std::exception& e) {
      std::string msg = e.what();
      for (char& ch : msg)
        if (ch == '\n') ch = ' ';
      std::cout << "error " << msg << std::endl;
    }
  }
  return 0;
}
