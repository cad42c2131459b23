// Coverage of the op registry: every public function declared in ops/*.h must be exercised by
// at least one registry entry (OpInfo::covers). Declarations are found by a line pattern: a
// function declared at namespace scope in pg (not indented, not inside `namespace detail`,
// operators excluded — they forward to named ops that have entries). The exclusions below are
// helpers that are not tensor ops; adding a name here needs a reason next to it.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "registry/registry.h"

namespace {

// Headers of ops/ that declare no ops.
const std::set<std::string> kExcludedHeaders = {
    "ops.h",    // umbrella include
    "check.h",     // shared input validators (cloud shape, dtype, device, finite)
    "raw_gemm.h",  // the fused ops' GEMM on raw storage (covered through shared_mlp and lstm_cell)
};

// Functions of ops/*.h that are not tensor ops.
const std::set<std::string> kExcludedFunctions = {
    "reduction_name",    // enum → string for error messages
    "activation_name",   // enum → string for error messages
    "broadcast_shapes",  // shape arithmetic, no tensor in or out
};

// name → header of every public function declared in ops/*.h.
std::map<std::string, std::string> declared_ops(const std::filesystem::path& ops_dir) {
  const std::regex decl(R"(^(?:inline\s+)?(?:const\s+)?[\w:<>]+[\s*&]+(\w+)\s*\()");
  std::map<std::string, std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(ops_dir)) {
    const std::string file = entry.path().filename().string();
    if (entry.path().extension() != ".h" || kExcludedHeaders.count(file)) continue;
    std::ifstream in(entry.path());
    std::string line;
    bool in_detail = false;
    while (std::getline(in, line)) {
      if (line.rfind("namespace detail", 0) == 0) {
        in_detail = true;
        continue;
      }
      if (in_detail) {
        if (line.rfind("}", 0) == 0) in_detail = false;
        continue;
      }
      std::smatch m;
      if (std::regex_search(line, m, decl) && !kExcludedFunctions.count(m[1].str())) names.emplace(m[1].str(), file);
    }
  }
  return names;
}

}  // namespace

TEST_CASE("registry covers every public op of ops/*.h", "[op_registry][coverage]") {
  const auto declared = declared_ops(std::filesystem::path(PG_TESTS_SOURCE_DIR) / ".." / "ops");
  // The parser must see the ops it is meant to police (guards against a path or pattern slip).
  REQUIRE(declared.size() >= 80);
  REQUIRE(declared.count("knn") == 1);
  REQUIRE(declared.count("emd") == 1);
  std::set<std::string> covered;
  for (const auto& op : pg::test::registry::entries()) covered.insert(op.covers.begin(), op.covers.end());
  std::string missing;
  for (const auto& [name, header] : declared) {
    if (!covered.count(name)) missing += " " + name + " (ops/" + header + ")";
  }
  INFO("public ops without a registry entry:" << missing);
  CHECK(missing.empty());
  // Entries may not claim names that are not public ops (a typo would hide a missing entry).
  std::string unknown;
  for (const auto& name : covered) {
    if (!declared.count(name)) unknown += " " + name;
  }
  INFO("registry entries cover names not declared in ops/*.h:" << unknown);
  CHECK(unknown.empty());
}

TEST_CASE("registry entries are well formed", "[op_registry][coverage]") {
  std::set<std::string> names;
  for (const auto& op : pg::test::registry::entries()) {
    INFO("entry " << op.name);
    CHECK(names.insert(op.name).second);  // unique names: failure messages must identify the entry
    CHECK(!op.family.empty());
    CHECK(static_cast<bool>(op.samples));
    CHECK(static_cast<bool>(op.fn));
  }
}
