// Tests of the CUDA emulator itself (PG_CUDA=EMULATE builds only).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
