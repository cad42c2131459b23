// Subcommand registration for the pg tool. A subcommand's callback does the work; exceptions
// propagate to main, which prints them as one line.
#pragma once

#include <CLI/CLI.hpp>

namespace pg::cli {

void register_info(CLI::App& app);  // pg info: build, devices, threads
void register_demo(CLI::App& app);  // pg demo: a short self-demonstration of the tensor API
void register_datagen(CLI::App& app);  // pg datagen: the built-in procedural data set
void register_convert(CLI::App& app);  // pg convert: per-shape files → labelled HDF5 shards
// pg convert consistent: resample a consistent shape collection (called by register_convert).
void register_convert_consistent(CLI::App& convert);
void register_metric(CLI::App& app);  // pg metric: Chamfer, Hausdorff, EMD, EM-kD between two cloud files
void register_fps(CLI::App& app);  // pg fps: farthest point sampling of a cloud file
void register_train(CLI::App& app);  // pg train pointnet: train the PointNet classifier
void register_eval(CLI::App& app);  // pg eval pointnet: overall and per-class accuracy of a checkpoint
// After register_train / register_eval (they add to those groups):
void register_task_training(CLI::App& app);  // pg train pcae | pcrnet | samplenet | snet | progressive
void register_sampling_eval(CLI::App& app);  // pg eval sampling: accuracy / NRE / MRE of a sampling method
void register_sample(CLI::App& app);  // pg sample: random / FPS / learned sampling of a file or data set

void register_render(CLI::App& app);  // pg render: a PNG picture of a cloud with a sample highlighted
void register_compress(CLI::App& app);  // pg compress / pg decompress: a shape collection as an auto-decoder

}  // namespace pg::cli
