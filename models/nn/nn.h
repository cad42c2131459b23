// Umbrella header of the nn building blocks.
#pragma once

#include "models/nn/batchnorm.h"
#include "models/nn/checkpoint.h"
#include "models/nn/clip.h"
#include "models/nn/dropout.h"
#include "models/nn/embedding.h"
#include "models/nn/grouped_linear.h"
#include "models/nn/init.h"
#include "models/nn/linear.h"
#include "models/nn/lstm.h"
#include "models/nn/module.h"
#include "models/nn/optim.h"
#include "models/nn/patch_mlp.h"
#include "models/nn/schedule.h"
#include "models/nn/shared_mlp.h"
#include "models/nn/invertible.h"
#include "models/nn/coupling_block.h"
