// Subcommand registration for the pg tool. A subcommand's callback does the work; exceptions
// propagate to main, which prints them as one line.
#pragma once

#include <CLI/CLI.hpp>

namespace pg::cli {

void register_info(CLI::App& app);  // pg info: build, devices, threads
void register_demo(CLI::App& app);  // pg demo: a short self-demonstration of the tensor API
void register_datagen(CLI::App& app);  // pg datagen: the built-in procedural data set

}  // namespace pg::cli
