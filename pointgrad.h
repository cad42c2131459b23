// pointgrad: the one header for users. Tensors, ops with autograd, nn modules and optimizers,
// checkpoints, data sets and loaders, the trainer and the model zoo.
//
//   #include "pointgrad.h"
//   pg::Tensor x = pg::randn({8, 1024, 3});
//   auto knn = pg::knn(x, x, 16);
//
// Link the CMake target `pointgrad`. Layers (DESIGN.md; docs/architecture.md): core (tensors,
// devices, RNG), kernels (internal), autograd, ops (the differentiable functions), datasets,
// models (nn, zoo, train).
#pragma once

#include "ops/ops.h"

#include "datasets/cloud_set_dataset.h"
#include "datasets/consistent_shapes.h"
#include "datasets/datagen.h"
#include "datasets/dataset.h"
#include "datasets/loader.h"
#include "datasets/mesh_sampling.h"
#include "datasets/mesh_tensors.h"
#include "datasets/modelnet40.h"
#include "datasets/pointcloud_io.h"
#include "datasets/pu147.h"
#include "datasets/registration.h"
#include "datasets/shapenet.h"
#include "datasets/transforms.h"

#include "models/nn/activation.h"
#include "models/nn/mlp.h"
#include "models/nn/model_config.h"
#include "models/nn/nn.h"
#include "models/nn/sequential.h"
#include "models/train/trainer.h"
#include "models/zoo/pointnet.h"
#include "models/zoo/registry.h"
