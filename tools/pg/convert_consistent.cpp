// pg convert consistent: resamples a consistent shape collection (datasets/consistent_shapes.h)
// into another one whose point count suits a model (e.g. NeuralQAAD's K equal patches).
//
//   pg convert consistent IN.h5 --out OUT.h5 [--faces MESH.ply]
//                         (--points n [--seed 1] | --vertices-multiple K)
//
// --points n: a dense surface sample drawn once and applied to every shape
//   (datasets/consistent_resample.h): `data` float32 [N, n, 3], `sample_face` int64 [n],
//   `sample_bary` float32 [n, 3]; the faces come from --faces or the input's `faces` dataset.
// --vertices-multiple K: the vertices kept are the first floor(V / K)·K of a farthest point
//   ordering of the mean shape (start vertex 0; coincident vertices, which FPS cannot order,
//   follow in index order), in ascending index order: `data` float32 [N, M, 3], `vertex_index`
//   int64 [M] and, when faces are known, `faces` int64 [F', 3] (those with all corners kept,
//   renumbered), so the output is again a collection the loader reads with its faces.
// Attributes on the file: source, faces_source, mode (dense|vertices), seed / multiple.
// The file is written atomically (a failure leaves OUT as it was).
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "datasets/consistent_resample.h"
#include "datasets/consistent_shapes.h"
#include "datasets/h5_file.h"
#include "ops/fps.h"
#include "ops/view.h"
#include "tools/pg/cli_validators.h"
#include "tools/pg/commands.h"

namespace pg::cli {

namespace {

struct ConsistentCli {
  std::string in, out, faces;
  int64_t points = 0;
  uint64_t seed = 1;
  int64_t multiple = 0;
};

// A permutation of [0, V): the FPS order of `ref` [V, 3] from vertex 0, then any vertices FPS
// could not separate (coincident positions: FPS repeats earlier picks) in index order.
Tensor fps_order(const Tensor& ref) {
  const int64_t nv = ref.size(0);
  FpsOptions o;
  o.start = 0;
  const std::vector<int64_t> picks = fps(ref.view({1, nv, 3}), nv, o).indices.to_vector<int64_t>();
  std::vector<char> seen(static_cast<size_t>(nv), 0);
  std::vector<int64_t> order;
  order.reserve(static_cast<size_t>(nv));
  for (const int64_t i : picks) {
    if (!seen[static_cast<size_t>(i)]) order.push_back(i);
    seen[static_cast<size_t>(i)] = 1;
  }
  for (int64_t i = 0; i < nv; ++i)
    if (!seen[static_cast<size_t>(i)]) order.push_back(i);
  return from_vector(order, {nv});
}

void run_consistent(const ConsistentCli& c) {
  PG_CHECK(
      (c.points > 0) != (c.multiple > 0),
      "pg convert consistent: give --points N (a dense surface sample) or --vertices-multiple K (a vertex subset)");
  const auto t0 = std::chrono::steady_clock::now();
  datasets::ConsistentShapesOptions o;
  o.faces_file = c.faces;
  const datasets::ConsistentShapesDataset ds(c.in, o);
  const std::string what = "pg convert consistent: '" + c.in + "'";
  const Tensor& verts = ds.points();
  const int64_t n_shapes = verts.size(0), nv = verts.size(1);
  std::string detail;
  std::function<void(datasets::H5File&)> fill;
  Tensor data;
  if (c.points > 0) {
    PG_CHECK(ds.has_faces(), what, " has no faces (no `faces` dataset): give --faces MESH.ply/.off, a mesh with its ",
             nv, " vertices");
    const datasets::ConsistentSample s = datasets::draw_consistent_sample(verts, ds.faces(), c.points, c.seed, what);
    data = datasets::apply_consistent_sample(verts, ds.faces(), s, what);
    detail = "dense surface sample, seed " + std::to_string(c.seed);
    fill = [&, s](datasets::H5File& f) {
      f.write("data", data);
      f.write("sample_face", s.face);
      f.write("sample_bary", s.bary);
      f.set_attr("/", "mode", "dense");
      f.set_attr("/", "seed", static_cast<int64_t>(c.seed));
    };
  } else {
    PG_CHECK(c.multiple <= nv, "pg convert consistent: --vertices-multiple ", c.multiple, " exceeds the ", nv,
             " vertices of '", c.in, "'");
    const Tensor order = fps_order(datasets::mean_shape(verts, what));
    const Tensor index = datasets::vertex_subset_from_order(order, nv, c.multiple, what);
    data = datasets::gather_vertices(verts, index, what);
    const Tensor faces = ds.has_faces() ? datasets::subset_faces(ds.faces(), index, nv, what) : Tensor();
    detail = "vertex subset (FPS of the mean shape), " + std::to_string(nv - index.size(0)) + " of " +
             std::to_string(nv) + " vertices dropped";
    if (faces.defined()) detail += ", " + std::to_string(faces.size(0)) + " faces kept";
    fill = [&, index, faces](datasets::H5File& f) {
      f.write("data", data);
      f.write("vertex_index", index);
      if (faces.defined()) f.write("faces", faces);
      f.set_attr("/", "mode", "vertices");
      f.set_attr("/", "multiple", c.multiple);
    };
  }
  datasets::write_h5_atomic(c.out, [&](datasets::H5File& f) {
    fill(f);
    f.set_attr("/", "source", c.in);
    f.set_attr("/", "faces_source", ds.faces_source());
  });
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("pg convert consistent: wrote %s: N = %lld shapes x M = %lld points (%s) from %s%s%s in %.2f s\n",
              c.out.c_str(), static_cast<long long>(n_shapes), static_cast<long long>(data.size(1)), detail.c_str(),
              c.in.c_str(), ds.has_faces() ? ", faces from " : "", ds.faces_source().c_str(), secs);
}

}  // namespace

void register_convert_consistent(CLI::App& convert) {
  static ConsistentCli c;
  auto* cmd = convert.add_subcommand(
      "consistent",
      "Resample a consistent shape collection (HDF5 `data` [N, V, 3] in correspondence) to M points per shape that "
      "stay in correspondence: a dense surface sample (--points) or a vertex subset with M divisible by K "
      "(--vertices-multiple)");
  cmd->add_option("input", c.in, "input .h5 with `data` float [N, V, 3] (and optionally `faces` int [F, 3])")
      ->required();
  cmd->add_option("--out", c.out, "output .h5 (written atomically; its folder must exist)")->required();
  cmd->add_option("--faces", c.faces,
                  "a .ply/.off mesh with V vertices whose faces all shapes share (default: the input's `faces`)");
  auto* points = cmd->add_option("--points", c.points,
                                 "dense mode: n surface points per shape, the same (face, barycentric weights) on "
                                 "every shape, faces picked by their area averaged over the shapes")
                     ->check(IntRange(1, int64_t(1) << 26));
  cmd->add_option("--seed", c.seed, "dense mode: seed of the sample (same seed, same file)")
      ->capture_default_str()
      ->needs(points);
  cmd->add_option("--vertices-multiple", c.multiple,
                  "vertex mode: keep floor(V / K)·K vertices (the first of a farthest point ordering of the mean "
                  "shape), so M is divisible by K")
      ->check(IntRange(1, int64_t(1) << 30))
      ->excludes(points);
  cmd->callback([] { run_consistent(c); });
}

}  // namespace pg::cli
