#include "models/nn/embedding.h"

#include <algorithm>
#include <cmath>

#include "autograd/grad_mode.h"
#include "models/nn/init.h"
#include "ops/index.h"
#include "ops/view.h"

namespace pg::nn {

Embedding::Embedding(int64_t num_embeddings, int64_t dim, EmbeddingOptions opts)
    : Module("Embedding"), num_(num_embeddings), dim_(dim) {
  PG_CHECK(num_embeddings > 0 && dim > 0, "Embedding: num_embeddings and dim must be positive, got ", num_embeddings,
           " and ", dim);
  PG_CHECK(is_floating(opts.tensor.dtype), "Embedding: the table must be float32 or float64, got ",
           dtype_name(opts.tensor.dtype));
  PG_CHECK(std::isfinite(opts.init_std) && opts.init_std >= 0.0, "Embedding: init_std must be finite and >= 0, got ",
           opts.init_std);
  NoGradGuard ng;
  Tensor w = empty({num_embeddings, dim}, opts.tensor);
  init::normal_(w, 0.0, opts.init_std, opts.gen);
  weight = register_parameter("weight", w);
}

Tensor Embedding::forward(const Tensor& indices) const {
  PG_CHECK(indices.defined(), "Embedding: undefined index tensor");
  PG_CHECK(indices.dtype() == DType::i64 || indices.dtype() == DType::i32, "Embedding: indices must be int64 or int32, got ",
           dtype_name(indices.dtype()));
  // Checked here (on the host) so the message names the table, not index_select's dim.
  const Tensor flat = indices.to(DType::i64, Device::cpu()).contiguous().reshape({indices.numel()});
  const int64_t* v = flat.data<int64_t>();
  for (int64_t i = 0; i < flat.numel(); ++i) {
    PG_CHECK(v[i] >= 0 && v[i] < num_, "Embedding: index ", v[i], " (position ", i, ") is out of range for a table of ",
             num_, " entries (valid: 0..", num_ - 1, ")");
  }
  Shape out_shape = indices.shape();
  out_shape.push_back(dim_);
  return index_select(weight, 0, flat.to(weight.device())).reshape(out_shape);
}

int64_t mark_row_sparse_parameters(Optimizer& optimizer, Module& model) {
  int64_t marked = 0;
  for (const auto& [name, m] : model.named_modules(false)) {
    const auto* e = dynamic_cast<const Embedding*>(m.get());
    if (e == nullptr || !e->weight.requires_grad()) continue;
    const auto& ps = optimizer.params();
    if (std::none_of(ps.begin(), ps.end(), [&](const Tensor& p) { return p.same(e->weight); })) continue;
    optimizer.set_row_sparse(e->weight);
    ++marked;
  }
  return marked;
}

}  // namespace pg::nn
