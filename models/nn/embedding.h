// Embedding: a trainable lookup table of per-item codes (NeuralQAAD's per-shape latents, an
// auto-decoder's table). weight [num_embeddings, dim]; forward(indices int64/int32 [...]) →
// [..., dim], row i of the table for index i.
//
// Gradient: dense, zero outside the rows of the batch (index_select's backward scatters the
// output gradient into the looked-up rows; repeated indices accumulate). Making the optimizer
// lazy is what keeps untouched rows untouched: mark the table row-sparse
// (Optimizer::set_row_sparse, or mark_row_sparse_parameters(optimizer, model) for every
// Embedding of a model — the Trainer does it), and Adam then updates only the batch rows, with
// per-row step counts saved as "<i>.row_step" in the checkpoint (models/nn/optim.h). The dense
// gradient is chosen over a row-sparse gradient type because the autograd engine, gradient
// clipping and the non-finite checks all work on dense gradients; a table is small
// (shapes × latent, ≤ a few MB) so the dense buffer costs little (docs/decisions.md).
//
// Init: N(0, init_std²) (default 0.01: near-zero codes for an auto-decoder; PyTorch's
// nn.Embedding uses N(0, 1)). The table is saved and loaded like any parameter ("weight").
//
// Errors (pg::Error): non-positive sizes; indices that are not integer, or out of range
// (naming the offending value, its position and the table size); an undefined index tensor.
#pragma once

#include <cstdint>

#include "core/random.h"
#include "models/nn/module.h"
#include "models/nn/optim.h"

namespace pg::nn {

struct EmbeddingOptions {
  double init_std = 0.01;
  TensorOptions tensor = {};  // dtype and device of the table
  Generator* gen = nullptr;   // initialisation draws (default generator when null)
};

class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t dim, EmbeddingOptions opts = {});

  // indices [...] (int64 or int32, any device: moved to the table's) → [..., dim].
  Tensor forward(const Tensor& indices) const;
  Tensor operator()(const Tensor& indices) const { return forward(indices); }

  int64_t num_embeddings() const { return num_; }
  int64_t dim() const { return dim_; }

  Tensor weight;  // [num_embeddings, dim]

 private:
  int64_t num_, dim_;
};

// Marks the table of every Embedding in `model` (that the optimizer holds) row-sparse; returns
// how many were marked. Tables that do not require grad are skipped.
int64_t mark_row_sparse_parameters(Optimizer& optimizer, Module& model);

}  // namespace pg::nn
