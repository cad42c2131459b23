// pg metric: a distance between two point clouds read from files.
//   pg metric chamfer|hausdorff|emd|emkd A B [--device cpu|cuda] [--dtype f32|f64] [--normalize] [--json]
//             [--index I | --index-a I --index-b J] [--dataset NAME | --dataset-a NAME --dataset-b NAME]
//             chamfer:   [--reduction mean|sum]
//             hausdorff: [--combine max|sum] [--euclidean]
//             emd:       [--exact] [--mode default|bijective|msn] [--eps E] [--iters K]
//             emkd:      [--leaf L] [--mode ...] [--eps E] [--iters K]
// Inputs: .xyz/.txt/.pts, .ply, .off (vertices) and .h5/.hdf5 (dataset [N, M, 3], one cloud by
// index). Every value is printed with enough digits to round-trip its dtype, together with a
// one-line statement of the convention (squared or Euclidean, sum or mean). Options that do not
// apply to the chosen metric are errors, not silently ignored.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "core/cuda_context.h"
#include "core/error.h"
#include "datasets/pointcloud_io.h"
#include "ops/chamfer.h"
#include "ops/emd.h"
#include "ops/emkd.h"
#include "ops/view.h"
#include "tools/pg/cli_validators.h"
#include "tools/pg/commands.h"

namespace pg::cli {

namespace {

// Sizes above this are refused by --exact (dense O(n³) solver with n²·8 bytes per cloud).
constexpr int64_t kExactMaxPoints = 2048;

struct MetricCli {
  std::string metric;
  std::string path_a, path_b;
  std::string device = "cpu";
  std::string dtype = "f32";
  int64_t index = 0, index_a = 0, index_b = 0;
  std::string dataset = "data", dataset_a, dataset_b;
  bool exact = false;
  bool normalize = false;
  bool json = false;
  std::string reduction = "mean";
  std::string combine = "max";
  bool euclidean = false;
  std::string mode = "default";
  double eps = 0.0;
  int64_t iters = 0;
  int64_t leaf = 1024;
  // Which options were given explicitly (for the "does not apply" checks).
  CLI::App* cmd = nullptr;
  bool given(const char* name) const { return cmd->count(name) > 0; }
};

// Centroid to the origin, then the furthest point to distance 1 (PU-GAN's evaluation, METHODS.md
// §9.4); float64 on the host, stored back in the cloud's dtype.
Tensor normalize_unit_sphere(const Tensor& cloud) {
  std::vector<double> v = cloud.to_vector<double>();
  const size_t n = v.size() / 3;
  double c[3] = {0, 0, 0};
  for (size_t i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) c[k] += v[3 * i + k];
  for (double& x : c) x /= static_cast<double>(n);
  double r = 0.0;
  for (size_t i = 0; i < n; ++i) {
    double s = 0.0;
    for (int k = 0; k < 3; ++k) {
      v[3 * i + k] -= c[k];
      s += v[3 * i + k] * v[3 * i + k];
    }
    r = std::max(r, std::sqrt(s));
  }
  if (r > 0.0)
    for (double& x : v) x /= r;
  return from_vector(v, cloud.shape()).to(cloud.dtype());
}

// Digits that round-trip the value's dtype.
std::string num(double v, DType t) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), t == DType::f32 ? "%.9g" : "%.17g", v);
  return buf;
}
std::string num17(double v) { return num(v, DType::f64); }

std::string json_escape(const std::string& s) {
  std::string o;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      o += '\\';
      o += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      o += buf;
    } else {
      o += ch;
    }
  }
  return o;
}

// A flat, ordered report: printed as "  key: value" lines or as one JSON object.
struct Report {
  struct Field {
    std::string key, json, text;  // json: the JSON literal; text: the human-readable form
  };
  std::vector<Field> fields;
  void str(const std::string& k, const std::string& v) { fields.push_back({k, "\"" + json_escape(v) + "\"", v}); }
  void number(const std::string& k, const std::string& v) { fields.push_back({k, v, v}); }
  void integer(const std::string& k, int64_t v) { number(k, std::to_string(v)); }
  void boolean(const std::string& k, bool v) { fields.push_back({k, v ? "true" : "false", v ? "yes" : "no"}); }
  const Field* find(const std::string& k) const {
    for (const Field& f : fields)
      if (f.key == k) return &f;
    return nullptr;
  }
};

struct Input {
  std::string path;
  std::string dataset;
  int64_t index = 0;
  bool h5 = false;
  Tensor cloud;  // [M, 3] on the host, in the requested dtype
};

Input load(const std::string& path, const std::string& dataset, int64_t index, DType dtype) {
  Input in;
  in.path = path;
  in.h5 = datasets::is_h5_path(path);
  in.dataset = dataset;
  in.index = index;
  datasets::CloudReadOptions ro;
  ro.dataset = dataset;
  ro.index = index;
  in.cloud = datasets::read_point_cloud(path, ro).to(dtype);
  return in;
}

void check_options(const MetricCli& c) {
  const std::string& m = c.metric;
  const bool chamfer = m == "chamfer", hausdorff = m == "hausdorff", emd = m == "emd", emkd = m == "emkd";
  PG_CHECK(!c.given("--reduction") || chamfer, "pg metric ", m, ": --reduction applies to chamfer only");
  PG_CHECK(!(c.given("--combine") || c.given("--euclidean")) || hausdorff, "pg metric ", m,
           ": --combine and --euclidean apply to hausdorff only");
  PG_CHECK(!c.given("--leaf") || emkd, "pg metric ", m, ": --leaf applies to emkd only");
  PG_CHECK(!(c.given("--mode") || c.given("--eps") || c.given("--iters")) || emd || emkd, "pg metric ", m,
           ": --mode, --eps and --iters apply to emd and emkd only");
  PG_CHECK(!c.exact || !emkd, "pg metric emkd: --exact is not available for emkd (an approximation by construction); "
                              "use 'pg metric emd --exact' for the exact EMD");
  PG_CHECK(!c.exact || !(c.given("--mode") || c.given("--eps") || c.given("--iters")), "pg metric emd: --exact ",
           "solves the assignment exactly; --mode, --eps and --iters (auction settings) do not apply");
  PG_CHECK(!(c.given("--index") && (c.given("--index-a") || c.given("--index-b"))), "pg metric: give either --index ",
           "(both inputs) or --index-a/--index-b, not both");
  PG_CHECK(!(c.given("--dataset") && (c.given("--dataset-a") || c.given("--dataset-b"))), "pg metric: give either ",
           "--dataset (both inputs) or --dataset-a/--dataset-b, not both");
  const bool ha = datasets::is_h5_path(c.path_a), hb = datasets::is_h5_path(c.path_b);
  PG_CHECK(!(c.given("--index") || c.given("--dataset")) || ha || hb, "pg metric: --index and --dataset select a ",
           "cloud of an .h5 input; neither '", c.path_a, "' nor '", c.path_b, "' is one");
  PG_CHECK(!(c.given("--index-a") || c.given("--dataset-a")) || ha, "pg metric: --index-a and --dataset-a apply to ",
           "an .h5 input A; '", c.path_a, "' is not one");
  PG_CHECK(!(c.given("--index-b") || c.given("--dataset-b")) || hb, "pg metric: --index-b and --dataset-b apply to ",
           "an .h5 input B; '", c.path_b, "' is not one");
}

EmdOptions emd_options(const MetricCli& c) {
  EmdOptions o;
  o.mode = c.mode == "bijective" ? EmdMode::Bijective : c.mode == "msn" ? EmdMode::Msn : EmdMode::Default;
  o.eps = c.eps;
  o.max_iters = c.iters;
  return o;
}

// Fills the metric's fields: value, convention and the metric's own details.
void compute(const MetricCli& c, const Tensor& a, const Tensor& b, DType dt, Report& r) {
  const int64_t n = a.size(1), m = b.size(1);
  if (c.metric == "chamfer") {
    ChamferOptions o;
    o.reduction = c.reduction == "sum" ? ChamferReduction::sum : ChamferReduction::mean;
    const ChamferResult res = chamfer(a, b, o);
    const double value = res.loss.to(Device::cpu()).item_double();
    const bool mean = o.reduction == ChamferReduction::mean;
    // The directional terms, accumulated in float64 like the op's loss.
    double fwd = 0.0, bwd = 0.0;
    for (double d : res.dist_a.to_vector<double>()) fwd += d;
    for (double d : res.dist_b.to_vector<double>()) bwd += d;
    if (mean) {
      fwd /= static_cast<double>(n);
      bwd /= static_cast<double>(m);
    }
    r.number("value", num(value, dt));
    r.str("convention", mean ? "CD = mean_a min_b |a-b|^2 + mean_b min_a |a-b|^2 (squared distances, the two "
                               "directional means summed, no 1/2; PU-GAN's training CD is half this)"
                             : "CD = sum_a min_b |a-b|^2 + sum_b min_a |a-b|^2 (squared distances, the two "
                               "directional sums summed)");
    r.str("reduction", c.reduction);
    r.number("a_to_b", num(fwd, dt));
    r.number("b_to_a", num(bwd, dt));
    if (c.exact) r.str("note", "--exact changes nothing: the Chamfer distance is computed exactly (brute force)");
  } else if (c.metric == "hausdorff") {
    HausdorffOptions o;
    o.squared = !c.euclidean;
    o.combine = c.combine == "sum" ? HausdorffCombine::sum : HausdorffCombine::max;
    const double value = hausdorff(a, b, o).to(Device::cpu()).item_double();
    o.direction = ChamferDirection::a_to_b;
    const double ha = hausdorff(a, b, o).to(Device::cpu()).item_double();
    o.direction = ChamferDirection::b_to_a;
    const double hb = hausdorff(a, b, o).to(Device::cpu()).item_double();
    const std::string d = c.euclidean ? "|a-b|" : "|a-b|^2";
    const std::string units = c.euclidean ? "Euclidean distances" : "squared distances";
    r.number("value", num(value, dt));
    r.str("convention", c.combine == "sum"
                            ? "HD = max_a min_b " + d + " + max_b min_a " + d + " (" + units +
                                  ", the two directional maxima summed, PU-GAN's evaluation HD when squared)"
                            : "HD = max(max_a min_b " + d + ", max_b min_a " + d + ") (" + units +
                                  ", the classic symmetric Hausdorff distance" +
                                  (c.euclidean ? ")" : "; --euclidean for the Euclidean one)"));
    r.str("combine", c.combine);
    r.boolean("squared", !c.euclidean);
    r.number("a_to_b", num(ha, dt));
    r.number("b_to_a", num(hb, dt));
    if (c.exact) r.str("note", "--exact changes nothing: the Hausdorff distance is computed exactly (brute force)");
  } else if (c.metric == "emd") {
    PG_CHECK(n == m, "pg metric emd: the clouds must have the same number of points (a bijection), got ", n, " and ",
             m, "; resample one of them first, e.g. with 'pg fps'");
    Tensor dist, assignment;
    int64_t unassigned = 0;
    if (c.exact) {
      PG_CHECK(n <= kExactMaxPoints, "pg metric emd --exact: ", n, " points; the exact solver (dense O(n^3), n^2*8 "
               "bytes) is limited to ", kExactMaxPoints, " points — drop --exact for the auction or resample with "
               "'pg fps'");
      const Tensor ac = a.to(Device::cpu()), bc = b.to(Device::cpu());
      assignment = emd_exact_assignment(ac, bc);
      dist = emd_dist_from_assignment(ac, bc, assignment);
    } else {
      const EmdResult res = emd(a, b, emd_options(c));
      dist = res.dist;
      assignment = res.assignment;
      unassigned = res.unassigned.to(Device::cpu()).item_int();
    }
    double sum = 0.0, sum_sq = 0.0;
    for (double d : dist.to_vector<double>()) {
      sum += std::sqrt(d);
      sum_sq += d;
    }
    std::vector<int64_t> asg = assignment.to_vector<int64_t>();
    std::sort(asg.begin(), asg.end());
    const int64_t distinct = std::unique(asg.begin(), asg.end()) - asg.begin();
    r.number("value", num17(sum));
    r.str("convention", "EMD = sum_j |a_j - b_s(j)| over the matching s (Euclidean distances summed, METHODS.md Eq. 12; "
                        "mean = EMD / n, MSN's training loss; sum_squared = sum_j |a_j - b_s(j)|^2)");
    r.number("mean", num17(sum / static_cast<double>(n)));
    r.number("sum_squared", num17(sum_sq));
    r.str("solver", c.exact ? "exact (Jonker-Volgenant LSAP, float64, CPU)" : "auction (" + c.mode + " mode)");
    r.integer("unassigned", unassigned);
    r.boolean("permutation", distinct == n);
    r.integer("distinct_targets", distinct);
    if (distinct != n)
      r.str("note", "the matching is not a permutation (" + std::to_string(n - distinct) + " targets unused): the value "
                    "can be below the exact EMD; use --mode bijective or --exact for a bijection");
  } else {  // emkd
    PG_CHECK(n == m, "pg metric emkd: the clouds must have the same number of points, got ", n, " and ", m,
             "; resample one of them first, e.g. with 'pg fps'");
    PG_CHECK(c.leaf >= 2, "pg metric emkd: --leaf must be at least 2, got ", c.leaf);
    EmkdOptions o;
    o.leaf_size = c.leaf;
    o.emd = emd_options(c);
    const EmkdResult res = emkd(a, b, o);
    const double value = res.value.to(Device::cpu()).item_double();
    std::vector<int64_t> asg = res.assignment.to_vector<int64_t>();
    std::sort(asg.begin(), asg.end());
    const int64_t distinct = std::unique(asg.begin(), asg.end()) - asg.begin();
    r.number("value", num(value, dt));
    r.str("convention", "EM-kD = sum over corresponding k-d leaves of the auction EMD (Euclidean distances summed, "
                        "METHODS.md §12.3); not below the exact EMD when the assignment is a permutation");
    r.number("mean", num17(value / static_cast<double>(n)));
    r.integer("leaf_size", c.leaf);
    r.integer("leaves", static_cast<int64_t>(res.leaf_offsets.size()) - 1);
    r.str("solver", "auction (" + c.mode + " mode) per leaf pair");
    r.integer("unassigned", res.unassigned.to(Device::cpu()).item_int());
    r.boolean("permutation", distinct == n);
    r.integer("distinct_targets", distinct);
    if (distinct != n)
      r.str("note", "the matching is not a permutation (" + std::to_string(n - distinct) + " targets unused): the value "
                    "can be below the exact EMD; use --mode bijective for a bijection");
  }
}

void run_metric(const MetricCli& c) {
  check_options(c);
  const Device dev = Device::parse(c.device);
  if (dev.is_cuda())
    PG_CHECK(cuda::is_available(), "pg metric: --device ", c.device, ": CUDA is not available (",
             cuda::unavailable_reason(), ")");
  const DType dt = c.dtype == "f64" ? DType::f64 : DType::f32;
  const bool single_index = c.given("--index"), single_ds = c.given("--dataset");
  const Input ia = load(c.path_a, single_ds || c.dataset_a.empty() ? c.dataset : c.dataset_a,
                        single_index ? c.index : c.index_a, dt);
  const Input ib = load(c.path_b, single_ds || c.dataset_b.empty() ? c.dataset : c.dataset_b,
                        single_index ? c.index : c.index_b, dt);
  Tensor a = c.normalize ? normalize_unit_sphere(ia.cloud) : ia.cloud;
  Tensor b = c.normalize ? normalize_unit_sphere(ib.cloud) : ib.cloud;

  const auto t0 = std::chrono::steady_clock::now();
  a = a.unsqueeze(0).to(dev);
  b = b.unsqueeze(0).to(dev);
  Report r;
  r.str("metric", c.metric);
  compute(c, a, b, dt, r);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  r.boolean("exact", c.exact && c.metric == "emd");
  r.boolean("normalized", c.normalize);
  r.str("device", dev.str());
  r.str("dtype", c.dtype);
  for (const Input* in : {&ia, &ib}) {
    const std::string p = in == &ia ? "a" : "b";
    r.str(p + "_path", in->path);
    r.integer(p + "_points", in->cloud.size(0));
    if (in->h5) {
      r.str(p + "_dataset", in->dataset);
      r.integer(p + "_index", in->index);
    }
  }
  r.number("seconds", num17(seconds));

  if (c.json) {
    std::string s = "{";
    for (size_t i = 0; i < r.fields.size(); ++i)
      s += (i ? ", \"" : "\"") + r.fields[i].key + "\": " + r.fields[i].json;
    std::printf("%s}\n", s.c_str());
    return;
  }
  auto where = [](const Input& in) {
    std::string s = in.path;
    if (in.h5) s += "[" + in.dataset + ", " + std::to_string(in.index) + "]";
    return s + " (" + std::to_string(in.cloud.size(0)) + " points)";
  };
  std::printf("pg metric %s: A = %s, B = %s, %s, %s%s\n", c.metric.c_str(), where(ia).c_str(), where(ib).c_str(),
              dev.str().c_str(), c.dtype.c_str(), c.normalize ? ", each normalised to the unit sphere" : "");
  std::printf("  %s = %s\n", c.metric.c_str(), r.find("value")->text.c_str());
  std::printf("  convention: %s\n", r.find("convention")->text.c_str());
  static const char* skip[] = {"metric", "value", "convention", "exact", "normalized", "device", "dtype", "seconds"};
  for (const Report::Field& f : r.fields) {
    if (std::find(std::begin(skip), std::end(skip), f.key) != std::end(skip)) continue;
    if (f.key.rfind("a_", 0) == 0 && f.key != "a_to_b") continue;
    if (f.key.rfind("b_", 0) == 0 && f.key != "b_to_a") continue;
    std::printf("  %s: %s\n", f.key.c_str(), f.text.c_str());
  }
  std::printf("  time: %.3f ms\n", seconds * 1e3);
}

}  // namespace

void register_metric(CLI::App& app) {
  static MetricCli c;
  auto* cmd = app.add_subcommand("metric", "Distance between two point clouds (Chamfer, Hausdorff, EMD, EM-kD)");
  c.cmd = cmd;
  cmd->add_option("metric", c.metric, "chamfer, hausdorff, emd or emkd")
      ->required()
      ->check(CLI::IsMember({"chamfer", "hausdorff", "emd", "emkd"}));
  cmd->add_option("A", c.path_a, "first cloud (.xyz/.txt/.pts, .ply, .off, .h5)")->required();
  cmd->add_option("B", c.path_b, "second cloud")->required();
  cmd->add_option("--device", c.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--dtype", c.dtype, "compute in float32 or float64")
      ->capture_default_str()
      ->check(CLI::IsMember({"f32", "f64"}));
  cmd->add_option("--index", c.index, "cloud index in .h5 inputs (both)")->check(NonNegativeInt());
  cmd->add_option("--index-a", c.index_a, "cloud index in an .h5 input A")->check(NonNegativeInt());
  cmd->add_option("--index-b", c.index_b, "cloud index in an .h5 input B")->check(NonNegativeInt());
  cmd->add_option("--dataset", c.dataset, "HDF5 dataset name (both inputs)")->capture_default_str();
  cmd->add_option("--dataset-a", c.dataset_a, "HDF5 dataset name of A");
  cmd->add_option("--dataset-b", c.dataset_b, "HDF5 dataset name of B");
  cmd->add_flag("--exact", c.exact,
                "emd: exact assignment (Jonker-Volgenant, n <= 2048); chamfer/hausdorff are always exact");
  cmd->add_flag("--normalize", c.normalize,
                "normalise each cloud to the unit sphere first (centroid to 0, furthest point at 1; PU-GAN)");
  cmd->add_flag("--json", c.json, "print one JSON object instead of text");
  cmd->add_option("--reduction", c.reduction, "chamfer: mean (sum of the directional means) or sum")
      ->capture_default_str()
      ->check(CLI::IsMember({"mean", "sum"}));
  cmd->add_option("--combine", c.combine, "hausdorff: max (classic) or sum (PU-GAN)")
      ->capture_default_str()
      ->check(CLI::IsMember({"max", "sum"}));
  cmd->add_flag("--euclidean", c.euclidean, "hausdorff: Euclidean instead of squared distances");
  cmd->add_option("--mode", c.mode, "emd/emkd auction: default (eps-scaling), bijective, msn")
      ->capture_default_str()
      ->check(CLI::IsMember({"default", "bijective", "msn"}));
  cmd->add_option("--eps", c.eps, "emd/emkd: final auction epsilon in coordinate units (0: automatic)")
      ->capture_default_str()
      ->check(RealAtLeast(0.0));
  cmd->add_option("--iters", c.iters, "emd/emkd: cap on auction rounds (0: automatic)")
      ->capture_default_str()
      ->check(IntRange(0, int64_t(1) << 40));
  cmd->add_option("--leaf", c.leaf, "emkd: at most this many points per k-d leaf")
      ->capture_default_str()
      ->check(IntRange(2, int64_t(1) << 40));
  cmd->callback([] { run_metric(c); });
}

}  // namespace pg::cli
