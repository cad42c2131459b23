// emd_compare_io: the pointgrad side of tools/compare/scipy_emd.py (auction EMD vs SciPy's exact
// assignment on the same clouds, alternated rounds). Not a benchmark and not a test: a driver
// that reads commands on stdin, one per line, and answers one line on stdout each:
//   load PATH N         PATH: raw little-endian float64, x1 [N, 3] then x2 [N, 3] (row-major);
//                       kept as float32 [1, N, 3] clouds → "ok N"
//   emd OUT PATH [ER ES EF]  bijective emd() with EmdOptions::cpu_path PATH (auto|dense|sparse)
//                       and optionally eps_rel ER, eps_start_rel ES, eps_factor EF (defaults
//                       otherwise), timed (wall clock, whole op call); writes the assignment to OUT (raw
//                       int64 [N]) → "ms T unassigned U bids B pairs P" (bids, and bidder-object
//                       values they evaluated: kernels::emd_cpu_bid_counts)
//   emkd OUT LEAF       emkd() with leaf_size LEAF and bijective leaf auctions, timed; writes
//                       the global assignment to OUT → "ms T unassigned U"
//   quit
// Every run uses all threads the library is given (PG_NUM_THREADS / --threads are not parsed
// here; the script sets OMP_NUM_THREADS). Errors answer "error MESSAGE" and keep the driver alive.
#include <string>
#include <vector>

#include "compare_io.h"
#include "kernels/emd.h"
#include "ops/emd.h"
#include "ops/emkd.h"
#include "ops/ops.h"

namespace {

using namespace pg;

constexpr const char* kWho = "emd_compare_io";
using bench::now_ms;

void write_i64(const std::string& path, const Tensor& a) {
  bench::write_i64(path, a, kWho);
}

EmdCpuPath parse_path(const std::string& s) {
  if (s == "auto") return EmdCpuPath::Auto;
  if (s == "dense") return EmdCpuPath::Dense;
  PG_CHECK(s == "sparse", "emd_compare_io: path must be auto, dense or sparse, got '", s, "'");
  return EmdCpuPath::Sparse;
}

}  // namespace

int main() {
  Tensor x1, x2;
  return bench::command_loop([&](const std::string& cmd, std::istringstream& in) {
    if (cmd == "load") {
      std::string path;
      int64_t n = 0;
      PG_CHECK((in >> path >> n) && n > 0, "emd_compare_io: usage 'load PATH N'");
      const std::vector<double> v = bench::read_raw<double>(path, 6 * n, kWho);  // x1 then x2, [n, 3] each
      const std::vector<double> a(v.begin(), v.begin() + 3 * n), b(v.begin() + 3 * n, v.end());
      x1 = from_vector(a, {1, n, 3}).to(DType::f32);
      x2 = from_vector(b, {1, n, 3}).to(DType::f32);
      std::cout << "ok " << n << std::endl;
    } else if (cmd == "emd") {
      std::string out, path;
      PG_CHECK((in >> out >> path) && x1.defined(), "emd_compare_io: usage 'emd OUT PATH' after 'load'");
      EmdOptions o = EmdOptions::bijective();
      o.cpu_path = parse_path(path);
      double er = 0, es = 0, ef = 0;
      if (in >> er >> es >> ef) {
        o.eps_rel = er;
        o.eps_start_rel = es;
        o.eps_factor = ef;
      }
      const kernels::AuctionBidCounts c0 = kernels::emd_cpu_bid_counts();
      const double t0 = now_ms();
      const EmdResult r = emd(x1, x2, o);
      const double t = now_ms() - t0;
      const kernels::AuctionBidCounts c1 = kernels::emd_cpu_bid_counts();
      write_i64(out, r.assignment);
      std::cout << "ms " << t << " unassigned " << r.unassigned.to_vector<int64_t>()[0] << " bids " << c1.bids - c0.bids
                << " pairs " << c1.pairs - c0.pairs << std::endl;
    } else if (cmd == "emkd") {
      std::string out;
      int64_t leaf = 0;
      PG_CHECK((in >> out >> leaf) && x1.defined(), "emd_compare_io: usage 'emkd OUT LEAF' after 'load'");
      EmkdOptions o;
      o.leaf_size = leaf;
      o.emd = EmdOptions::bijective();
      const double t0 = now_ms();
      const EmkdResult r = emkd(x1, x2, o);
      const double t = now_ms() - t0;
      write_i64(out, r.assignment);
      std::cout << "ms " << t << " unassigned " << r.unassigned.to_vector<int64_t>()[0] << std::endl;
    } else {
      return false;
    }
    return true;
  });
}
