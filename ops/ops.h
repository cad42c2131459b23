// Umbrella header: the whole public op surface.
#pragma once

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/random.h"
#include "core/tensor.h"
#include "ops/elementwise.h"
#include "ops/index.h"
#include "ops/linalg.h"
#include "ops/reduce.h"
#include "ops/view.h"
