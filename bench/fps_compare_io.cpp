// fps_compare_io: the pointgrad side of tools/compare/fpsample_cmp.py (FPS vs fpsample's bucket
// FPS on the same cloud, alternated rounds). Not a benchmark and not a test: a driver that reads
// commands on stdin, one per line, and answers one line on stdout each:
//   load PATH N        PATH: raw little-endian float32 [N, 3] (row-major) → "ok N"
//   fps OUT M START    fps(points [1, N, 3] float32, M, start index START), timed (wall clock,
//                      whole op call); writes the indices to OUT (raw int64 [M]) → "ms T"
//   quit
// Errors answer "error MESSAGE" and keep the driver alive.
#include <string>
#include <vector>

#include "compare_io.h"
#include "ops/fps.h"
#include "ops/ops.h"

int main() {
  using namespace pg;
  constexpr const char* kWho = "fps_compare_io";
  Tensor pts;
  return bench::command_loop([&](const std::string& cmd, std::istringstream& in) {
    if (cmd == "load") {
      std::string path;
      int64_t n = 0;
      PG_CHECK((in >> path >> n) && n > 0, "fps_compare_io: usage 'load PATH N'");
      const std::vector<float> v = bench::read_raw<float>(path, 3 * n, kWho);
      pts = from_vector(v, {1, n, 3});
      std::cout << "ok " << n << std::endl;
    } else if (cmd == "fps") {
      std::string out;
      int64_t m = 0, start = 0;
      PG_CHECK((in >> out >> m >> start) && pts.defined(), "fps_compare_io: usage 'fps OUT M START' after 'load'");
      FpsOptions o;
      o.start = start;
      const double t0 = bench::now_ms();
      const FpsResult r = fps(pts, m, o);
      const double t = bench::now_ms() - t0;
      bench::write_i64(out, r.indices, kWho);
      std::cout << "ms " << t << std::endl;
    } else {
      return false;
    }
    return true;
  });
}
