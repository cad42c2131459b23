// Terminal rendering of the Trainer's progress callbacks (models/train/trainer.h) for any model:
//   batch:  "epoch  3/20 [#####...]  41%  loss 0.6263  acc  81.1%  5.4 shapes/s  ETA 7:19"
//   epoch:  "epoch 3/20  lr 0.001  train loss 0.6263  acc 81.08%  | test_chamfer 0.0012  | 228.0 s, 5.4 shapes/s"
// Metrics named "acc", "*_acc" or "*accuracy" print as percentages, others with 4 decimals.
#pragma once

#include <string>

#include "models/train/trainer.h"
#include "tools/pg/progress.h"

namespace pg::cli {

// "81.1%"-style for accuracies, "0.6263" otherwise; `wide` pads percentages to 5 characters.
std::string format_metric(const std::string& name, double value, bool wide);
// Draws one batch update on `progress`.
void render_batch(ProgressLine& progress, const train::BatchProgress& p, const std::string& unit);
// One epoch summary line.
std::string epoch_line(const train::EpochRecord& r, int64_t epochs, const std::string& unit);
// Callbacks printing messages ("pg train: ..."), batch bars and epoch lines through `progress`.
train::TrainCallbacks terminal_callbacks(ProgressLine& progress, int64_t epochs, const std::string& unit);

}  // namespace pg::cli
