// pg: the pointgrad command line. Each subcommand lives in its own file and registers itself
// here; errors become one line on stderr and exit code 1. The line is the message alone
// (pg::Error::message()); --verbose adds the library's full text with the source location and
// the failed check (docs/decisions.md, "Error text").
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "core/error.h"
#include "tools/pg/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"pg — pointgrad: point-cloud deep learning on CPU and CUDA"};
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("--verbose", verbose, "errors show the source location and failed check (for bug reports)");
  // --verbose may also follow the subcommand's own options: unknown options fall through to here.
  app.fallthrough();
  pg::cli::register_info(app);
  pg::cli::register_demo(app);
  pg::cli::register_datagen(app);
  pg::cli::register_convert(app);
  pg::cli::register_metric(app);
  pg::cli::register_fps(app);
  pg::cli::register_train(app);
  pg::cli::register_eval(app);
  pg::cli::register_task_training(app);
  pg::cli::register_sampling_eval(app);
  pg::cli::register_sample(app);
  pg::cli::register_render(app);
  pg::cli::register_compress(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const pg::Error& e) {
    std::fprintf(stderr, "pg: error: %s\n", verbose ? e.what() : e.message().c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pg: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
