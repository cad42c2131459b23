// Element types and compile-time dispatch over them.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.h"

namespace pg {

enum class DType : uint8_t { f32, f64, i32, i64, u8, b8 };

constexpr int64_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i32: return 4;
    case DType::i64: return 8;
    case DType::u8: return 1;
    case DType::b8: return 1;
  }
  return 0;
}

constexpr bool is_floating(DType t) { return t == DType::f32 || t == DType::f64; }
constexpr bool is_integral(DType t) { return t == DType::i32 || t == DType::i64 || t == DType::u8; }

const char* dtype_name(DType t);
DType dtype_from_name(const std::string& name);

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::i32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::i64; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::u8; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::b8; };
template <class T> inline constexpr DType dtype_v = dtype_of<T>::value;

// Calls f.template operator()<T>() for the C++ type T of `t`. `op` names the caller in errors.
template <class F>
decltype(auto) dispatch_all(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::f32: return f.template operator()<float>();
    case DType::f64: return f.template operator()<double>();
    case DType::i32: return f.template operator()<int32_t>();
    case DType::i64: return f.template operator()<int64_t>();
    case DType::u8: return f.template operator()<uint8_t>();
    case DType::b8: return f.template operator()<bool>();
  }
  PG_FAIL(op, ": unknown dtype");
}

// Numeric types: everything except bool.
template <class F>
decltype(auto) dispatch_numeric(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::f32: return f.template operator()<float>();
    case DType::f64: return f.template operator()<double>();
    case DType::i32: return f.template operator()<int32_t>();
    case DType::i64: return f.template operator()<int64_t>();
    case DType::u8: return f.template operator()<uint8_t>();
    default: break;
  }
  PG_FAIL(op, ": dtype ", dtype_name(t), " is not supported (expected a numeric dtype)");
}

// Floating types only (f32, f64).
template <class F>
decltype(auto) dispatch_floating(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::f32: return f.template operator()<float>();
    case DType::f64: return f.template operator()<double>();
    default: break;
  }
  PG_FAIL(op, ": dtype ", dtype_name(t), " is not supported (expected float32 or float64)");
}

// Index types (i32, i64).
template <class F>
decltype(auto) dispatch_index(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::i32: return f.template operator()<int32_t>();
    case DType::i64: return f.template operator()<int64_t>();
    default: break;
  }
  PG_FAIL(op, ": index dtype ", dtype_name(t), " is not supported (expected int32 or int64)");
}

}  // namespace pg
