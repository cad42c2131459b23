// bench_core: the core tensor ops against the machine's ceilings.
//   elementwise.{add,mul,relu,exp}   contiguous f32, 2^24 elements (2^20 with --quick)
//   elementwise.add_broadcast        [4096,4096] + [4096]
//   elementwise.add_transposed       [4096,4096]ᵀ (strided view) + [4096,4096]
//   reduce.sum_all / reduce.sum_lastdim   2^24 elements / [4096,4096] over dim -1
//   matmul                            1024³ f32 and f64 vs the raw cblas_?gemm / cublas?gemm call
// Bandwidth cases report GB/s = (bytes read + written) / time and % of the measured copy
// bandwidth of the same device; on the CPU their baseline is a raw OpenMP loop over the same
// buffers (output preallocated). Matmul reports GFLOP/s with the raw library call as ceiling
// and baseline (ratio_to_baseline = pg time / raw time; target <= 1.05).
#include <cblas.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "core/parallel_for.h"
#include "harness.h"
#include "ops/ops.h"

#if PG_WITH_CUDA
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "core/cuda_check.h"
#endif

namespace {

using namespace pg;
using namespace pg::bench;

using RepFn = std::function<void(int64_t)>;

const std::string kF32 = dtype_name(DType::f32);

int nthreads() { return pg::cpu_num_threads(); }

double rel_l2(const std::vector<double>& x, const std::vector<double>& ref) {
  if (x.size() != ref.size()) return kNaN;
  double num = 0, den = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double d = x[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

std::vector<double> host_values(const Tensor& t) { return t.to_vector<double>(); }

// A bandwidth-bound case: times `pg_fn`, and on the CPU the raw baseline `raw_fn` (when given),
// then emits GB/s against the device's copy ceiling. `check` (optional) returns a relative error
// compared against `tol`.
struct BandwidthCase {
  std::string name;
  std::string shape;
  std::string dtype = kF32;
  double bytes = 0;
  RepFn pg_fn;
  RepFn raw_fn;
  std::string raw_name = "raw_loop_omp";
  std::function<double()> check;
  double tol = kNaN;
};

void run_bandwidth(Harness& h, Device dev, const BandwidthCase& c) {
  Record r;
  r.name = c.name;
  r.device = dev;
  r.dtype = c.dtype;
  r.shape = c.shape;
  r.ceiling = h.copy_ceiling_gbps(dev);
  r.ceiling_name = "copy_bandwidth";
  // The op and its baseline are timed in alternation (same machine conditions for the ratio).
  const std::vector<Stats> st = c.raw_fn ? h.time_interleaved(dev, {c.pg_fn, c.raw_fn}) : std::vector<Stats>{h.time(dev, c.pg_fn)};
  r.t = st[0];
  r.gbps = c.bytes / (r.t.median_ms * 1e-3) / 1e9;
  if (c.raw_fn) {
    const Stats& b = st[1];
    r.baseline = c.raw_name;
    r.baseline_ms = b.median_ms;
    r.extra.push_back({"baseline_gbps", json_number(c.bytes / (b.median_ms * 1e-3) / 1e9)});
  }
  if (c.check) {
    r.check_rel_err = c.check();
    r.check_tol = c.tol;
  }
  h.emit(r);
}

// ---- raw CPU baselines (OpenMP over raw pointers, same thread count as the library) ----

template <class F>
void raw_map1(const float* a, float* out, int64_t n, F f) {
#pragma omp parallel for schedule(static) num_threads(nthreads())
  for (int64_t i = 0; i < n; ++i) out[i] = f(a[i]);
}

template <class F>
void raw_map2(const float* a, const float* b, float* out, int64_t n, F f) {
#pragma omp parallel for schedule(static) num_threads(nthreads())
  for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
}

void raw_add_broadcast(const float* a, const float* v, float* out, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) num_threads(nthreads())
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) out[i * cols + j] = a[i * cols + j] + v[j];
}

// out = aᵀ + b for square n×n row-major a, b; 64×64 tiles.
void raw_add_transposed(const float* a, const float* b, float* out, int64_t n) {
  constexpr int64_t T = 64;
  const int64_t tiles = (n + T - 1) / T;
#pragma omp parallel for schedule(static) num_threads(nthreads())
  for (int64_t tile = 0; tile < tiles * tiles; ++tile) {
    const int64_t i0 = tile / tiles * T, j0 = tile % tiles * T;
    const int64_t i1 = std::min(i0 + T, n), j1 = std::min(j0 + T, n);
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t j = j0; j < j1; ++j) out[i * n + j] = a[j * n + i] + b[i * n + j];
  }
}

// Float64 sum of x[0, n) with 8 independent accumulators (so the adds pipeline).
double raw_sum_span(const float* x, int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) acc[k] += static_cast<double>(x[i + k]);
  for (; i < n; ++i) acc[0] += static_cast<double>(x[i]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

double raw_sum_all(const float* x, int64_t n) {
  const int nt = nthreads();
  std::vector<double> part(nt, 0.0);
#pragma omp parallel num_threads(nt)
  {
    const int64_t t = omp_get_thread_num(), m = omp_get_num_threads();
    const int64_t b = n * t / m, e = n * (t + 1) / m;
    part[t] = raw_sum_span(x + b, e - b);
  }
  double acc = 0;
  for (const double p : part) acc += p;
  return acc;
}

void raw_sum_rows(const float* x, float* out, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) num_threads(nthreads())
  for (int64_t i = 0; i < rows; ++i) out[i] = static_cast<float>(raw_sum_span(x + i * cols, cols));
}

// Input sets rotated between repeats so the working set exceeds the device's last cache.
std::vector<std::vector<Tensor>> make_sets(Harness& h, Device dev, const std::vector<Shape>& shapes, size_t out_bytes,
                                           bool normal) {
  size_t set_bytes = out_bytes;
  for (const auto& s : shapes) set_bytes += static_cast<size_t>(shape_numel(s)) * sizeof(float);
  const size_t cap = h.quick() ? (size_t(256) << 20) : (size_t(1) << 30);
  const int k = h.rotation_sets(dev, set_bytes, cap);
  std::vector<std::vector<Tensor>> sets(k);
  for (auto& set : sets)
    for (const auto& s : shapes)
      set.push_back(normal ? pg::randn(s, TensorOptions(DType::f32, dev)) : pg::rand(s, TensorOptions(DType::f32, dev)));
  return sets;
}

// ---------------------------------------------------------------------------------------------
// elementwise

void bench_elementwise(Harness& h, Device dev) {
  const int64_t n = h.quick() ? (int64_t(1) << 20) : (int64_t(1) << 24);
  const int64_t side = h.quick() ? 1024 : 4096;
  const size_t f = sizeof(float);

  struct Op {
    const char* name;
    int arity;
    std::function<Tensor(const Tensor&, const Tensor&)> pg_op;
    std::function<void(const float*, const float*, float*, int64_t)> raw;
    double tol;
  };
  const std::vector<Op> ops = {
      {"elementwise.add", 2, [](const Tensor& a, const Tensor& b) { return pg::add(a, b); },
       [](const float* a, const float* b, float* o, int64_t m) { raw_map2(a, b, o, m, [](float x, float y) { return x + y; }); },
       0.0},
      {"elementwise.mul", 2, [](const Tensor& a, const Tensor& b) { return pg::mul(a, b); },
       [](const float* a, const float* b, float* o, int64_t m) { raw_map2(a, b, o, m, [](float x, float y) { return x * y; }); },
       0.0},
      {"elementwise.relu", 1, [](const Tensor& a, const Tensor&) { return pg::relu(a); },
       [](const float* a, const float*, float* o, int64_t m) {
         raw_map1(a, o, m, [](float x) { return x > 0.f ? x : 0.f; });
       },
       0.0},
      {"elementwise.exp", 1, [](const Tensor& a, const Tensor&) { return pg::exp(a); },
       [](const float* a, const float*, float* o, int64_t m) { raw_map1(a, o, m, [](float x) { return std::exp(x); }); },
       1e-6},
  };

  for (const Op& op : ops) {
    if (!h.selected(op.name, dev, kF32)) continue;
    std::vector<Shape> shapes(op.arity, Shape{n});
    auto sets = make_sets(h, dev, shapes, n * f, /*normal=*/true);
    Tensor out_raw = dev.is_cpu() ? pg::empty({n}) : Tensor();
    auto arg = [&](int64_t rep, int i) -> const Tensor& { return sets[rep % sets.size()][i]; };
    BandwidthCase c;
    c.name = op.name;
    c.shape = shape_string({n});
    c.bytes = static_cast<double>((op.arity + 1) * n * f);
    c.pg_fn = [&](int64_t rep) { Tensor y = op.pg_op(arg(rep, 0), op.arity > 1 ? arg(rep, 1) : arg(rep, 0)); };
    if (dev.is_cpu()) {
      c.raw_fn = [&](int64_t rep) {
        const float* a = arg(rep, 0).data<float>();
        const float* b = op.arity > 1 ? arg(rep, 1).data<float>() : nullptr;
        op.raw(a, b, out_raw.data<float>(), n);
      };
      c.check = [&]() {
        const Tensor y = op.pg_op(arg(0, 0), op.arity > 1 ? arg(0, 1) : arg(0, 0));
        op.raw(arg(0, 0).data<float>(), op.arity > 1 ? arg(0, 1).data<float>() : nullptr, out_raw.data<float>(), n);
        return rel_l2(host_values(y), host_values(out_raw));
      };
      c.tol = std::max(op.tol, 1e-7);
    }
    run_bandwidth(h, dev, c);
  }

  // [side, side] + [side]
  if (h.selected("elementwise.add_broadcast", dev, kF32)) {
    auto sets = make_sets(h, dev, {{side, side}, {side}}, side * side * f, false);
    Tensor out_raw = dev.is_cpu() ? pg::empty({side, side}) : Tensor();
    BandwidthCase c;
    c.name = "elementwise.add_broadcast";
    c.shape = shape_string({side, side}) + "+" + shape_string({side});
    c.bytes = static_cast<double>((2 * side * side + side) * f);
    c.pg_fn = [&](int64_t rep) {
      const auto& s = sets[rep % sets.size()];
      Tensor y = pg::add(s[0], s[1]);
    };
    if (dev.is_cpu()) {
      c.raw_fn = [&](int64_t rep) {
        const auto& s = sets[rep % sets.size()];
        raw_add_broadcast(s[0].data<float>(), s[1].data<float>(), out_raw.data<float>(), side, side);
      };
      c.check = [&]() {
        const Tensor y = pg::add(sets[0][0], sets[0][1]);
        raw_add_broadcast(sets[0][0].data<float>(), sets[0][1].data<float>(), out_raw.data<float>(), side, side);
        return rel_l2(host_values(y), host_values(out_raw));
      };
      c.tol = 1e-7;
    }
    run_bandwidth(h, dev, c);
  }

  // [side, side]ᵀ (a strided view) + [side, side]
  if (h.selected("elementwise.add_transposed", dev, kF32)) {
    auto sets = make_sets(h, dev, {{side, side}, {side, side}}, side * side * f, false);
    Tensor out_raw = dev.is_cpu() ? pg::empty({side, side}) : Tensor();
    BandwidthCase c;
    c.name = "elementwise.add_transposed";
    c.shape = shape_string({side, side}) + "T+" + shape_string({side, side});
    c.bytes = static_cast<double>(3 * side * side * f);
    c.pg_fn = [&](int64_t rep) {
      const auto& s = sets[rep % sets.size()];
      Tensor y = pg::add(s[0].t(), s[1]);
    };
    if (dev.is_cpu()) {
      c.raw_name = "raw_loop_omp_tiled";
      c.raw_fn = [&](int64_t rep) {
        const auto& s = sets[rep % sets.size()];
        raw_add_transposed(s[0].data<float>(), s[1].data<float>(), out_raw.data<float>(), side);
      };
      c.check = [&]() {
        const Tensor y = pg::add(sets[0][0].t(), sets[0][1]);
        raw_add_transposed(sets[0][0].data<float>(), sets[0][1].data<float>(), out_raw.data<float>(), side);
        return rel_l2(host_values(y), host_values(out_raw));
      };
      c.tol = 1e-7;
    }
    run_bandwidth(h, dev, c);
  }
}

// ---------------------------------------------------------------------------------------------
// reductions

void bench_reduce(Harness& h, Device dev) {
  const int64_t n = h.quick() ? (int64_t(1) << 20) : (int64_t(1) << 24);
  const int64_t side = h.quick() ? 1024 : 4096;
  const size_t f = sizeof(float);

  if (h.selected("reduce.sum_all", dev, kF32)) {
    auto sets = make_sets(h, dev, {{n}}, 0, false);
    BandwidthCase c;
    c.name = "reduce.sum_all";
    c.shape = shape_string({n});
    c.bytes = static_cast<double>(n * f + f);
    c.pg_fn = [&](int64_t rep) { Tensor y = pg::sum(sets[rep % sets.size()][0]); };
    if (dev.is_cpu()) {
      c.raw_fn = [&](int64_t rep) {
        volatile double s = raw_sum_all(sets[rep % sets.size()][0].data<float>(), n);
        (void)s;
      };
    }
    // Reference: a float64 host sum of the same data (both backends accumulate in float64).
    c.check = [&]() {
      const double got = pg::sum(sets[0][0]).item<double>();
      const auto v = host_values(sets[0][0]);
      double ref = 0;
      for (const double x : v) ref += x;
      return std::abs(got - ref) / std::abs(ref);
    };
    c.tol = 1e-6;  // the result is rounded to float32
    run_bandwidth(h, dev, c);
  }

  if (h.selected("reduce.sum_lastdim", dev, kF32)) {
    auto sets = make_sets(h, dev, {{side, side}}, side * f, false);
    Tensor out_raw = pg::empty({side});
    BandwidthCase c;
    c.name = "reduce.sum_lastdim";
    c.shape = shape_string({side, side}) + "->" + shape_string({side});
    c.bytes = static_cast<double>((side * side + side) * f);
    c.pg_fn = [&](int64_t rep) { Tensor y = pg::sum(sets[rep % sets.size()][0], {-1}); };
    if (dev.is_cpu()) {
      c.raw_fn = [&](int64_t rep) {
        raw_sum_rows(sets[rep % sets.size()][0].data<float>(), out_raw.data<float>(), side, side);
      };
    }
    c.check = [&]() {
      const Tensor y = pg::sum(sets[0][0], {-1});
      const Tensor x = sets[0][0].to(Device::cpu());
      raw_sum_rows(x.data<float>(), out_raw.data<float>(), side, side);
      return rel_l2(host_values(y), host_values(out_raw));
    };
    c.tol = 1e-6;
    run_bandwidth(h, dev, c);
  }
}

// ---------------------------------------------------------------------------------------------
// matmul

#if PG_WITH_CUDA
#define PG_CUBLAS_CHECK(call)                                                     \
  do {                                                                            \
    const cublasStatus_t st_ = (call);                                            \
    PG_CHECK(st_ == CUBLAS_STATUS_SUCCESS, #call " failed: cuBLAS status ", int(st_)); \
  } while (0)

struct CublasHandle {
  cublasHandle_t h = nullptr;
  ~CublasHandle() {
    if (h) cublasDestroy(h);
  }
  cublasHandle_t get() {
    if (!h) {
      PG_CUBLAS_CHECK(cublasCreate(&h));
      // The library's contract: pedantic FP32 (no TF32); the raw call does the same math.
      PG_CUBLAS_CHECK(cublasSetMathMode(h, CUBLAS_PEDANTIC_MATH));
    }
    PG_CUBLAS_CHECK(cublasSetStream(h, static_cast<cudaStream_t>(pg::cuda::current_stream())));
    return h;
  }
};
#endif

void bench_matmul(Harness& h, Device dev) {
  const int64_t n = h.quick() ? 256 : 1024;
#if PG_WITH_CUDA
  static CublasHandle cublas;
#endif
  for (const DType dt : {DType::f32, DType::f64}) {
    const std::string dts = dtype_name(dt);
    const bool f32 = dt == DType::f32;
    const std::string raw_name = dev.is_cpu() ? (f32 ? "cblas_sgemm" : "cblas_dgemm") : (f32 ? "cublasSgemm" : "cublasDgemm");
    const bool want_pg = h.selected("matmul", dev, dts);
    const bool want_raw = h.selected("matmul.raw_" + raw_name, dev, dts);
    if (!want_pg && !want_raw) continue;

    const Tensor a = pg::randn({n, n}, TensorOptions(dt, dev));
    const Tensor b = pg::randn({n, n}, TensorOptions(dt, dev));
    const Tensor c_raw = pg::empty({n, n}, TensorOptions(dt, dev));
    // Row-major C = A·B. cuBLAS is column-major: Cᵀ = Bᵀ·Aᵀ, i.e. gemm(B, A) on the same buffers.
    RepFn raw;
    if (dev.is_cpu()) {
#ifdef OPENBLAS_VERSION
      openblas_set_num_threads(nthreads());
#endif
      raw = [&, f32](int64_t) {
        if (f32)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data<float>(), n, b.data<float>(), n,
                      0.0f, c_raw.data<float>(), n);
        else
          cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a.data<double>(), n, b.data<double>(), n,
                      0.0, c_raw.data<double>(), n);
      };
    } else {
#if PG_WITH_CUDA
      raw = [&, f32](int64_t) {
        cublasHandle_t hd = cublas.get();
        const int N = static_cast<int>(n);
        if (f32) {
          const float one = 1.f, zero = 0.f;
          PG_CUBLAS_CHECK(cublasSgemm(hd, CUBLAS_OP_N, CUBLAS_OP_N, N, N, N, &one, b.data<float>(), N, a.data<float>(), N,
                                      &zero, c_raw.data<float>(), N));
        } else {
          const double one = 1.0, zero = 0.0;
          PG_CUBLAS_CHECK(cublasDgemm(hd, CUBLAS_OP_N, CUBLAS_OP_N, N, N, N, &one, b.data<double>(), N,
                                      a.data<double>(), N, &zero, c_raw.data<double>(), N));
        }
      };
#endif
    }
    const double flops = 2.0 * static_cast<double>(n) * n * n;
    const std::string shape = shape_string({n, n}) + "x" + shape_string({n, n});

    const RepFn pg_fn = [&](int64_t) { Tensor y = pg::matmul(a, b); };
    // Raw call and pg::matmul in alternation (same machine conditions for the ratio).
    const std::vector<Stats> st = want_pg ? h.time_interleaved(dev, {raw, pg_fn}) : std::vector<Stats>{h.time(dev, raw)};
    Record rr;
    rr.name = "matmul.raw_" + raw_name;
    rr.device = dev;
    rr.dtype = dts;
    rr.shape = shape;
    rr.t = st[0];
    rr.gflops = flops / (rr.t.median_ms * 1e-3) / 1e9;
    rr.ceiling = rr.gflops;
    rr.ceiling_name = raw_name;
    if (want_raw) h.emit(rr);
    if (!want_pg) continue;

    Record r;
    r.name = "matmul";
    r.device = dev;
    r.dtype = dts;
    r.shape = shape;
    r.t = st[1];
    r.gflops = flops / (r.t.median_ms * 1e-3) / 1e9;
    r.ceiling = rr.gflops;
    r.ceiling_name = raw_name;
    r.baseline = raw_name;
    r.baseline_ms = rr.t.median_ms;
    {
      const Tensor y = pg::matmul(a, b);
      raw(0);
      r.check_rel_err = rel_l2(host_values(y), host_values(c_raw));
      r.check_tol = f32 ? 1e-5 : 1e-12;
    }
    h.emit(r);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Harness h(argc, argv, "bench_core");
  pg::NoGradGuard no_grad;
  int errors = 0;
  for (const Device dev : h.devices()) {
    for (const auto& group : {bench_elementwise, bench_reduce, bench_matmul}) {
      try {
        group(h, dev);
      } catch (const std::exception& e) {
        std::cerr << "bench_core: a case on " << dev.str() << " failed: " << e.what() << "\n";
        ++errors;
      }
    }
  }
  const int rc = h.finish();
  return errors > 0 ? 1 : rc;
}
