// Emulated CUDA runtime: devices, memory, streams, events, errors, function attributes.
//
// Every operation completes when it is issued (kernels run synchronously at launch), so stream
// order always holds; hold_stream() lets tests model work that is still queued. Device memory
// is host memory tagged with its device: a pointer's device is known, and launches, copies and
// frees check it.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "cuda_emu/emu_launch.h"
#include "emu_asan.h"
#include "emu_internal.h"

struct CUstream_st {
  int device = 0;
  unsigned long long id = 0;
  bool live = false;
  bool held = false;
  std::vector<CUevent_st*> held_events;  // recorded while held: complete on release or sync
};
struct CUevent_st {
  int device = 0;
  bool complete = true;
  CUstream_st* stream = nullptr;
};

namespace pg_emu {

namespace {

struct Alloc {
  size_t size;
  int device;
};

struct State {
  std::mutex mu;
  std::map<uintptr_t, Alloc> allocs;  // base -> allocation
  size_t in_use[kDeviceCount] = {};
  size_t limit[kDeviceCount] = {};
  int sync_count[kDeviceCount] = {};
  std::vector<CUstream_st*> free_streams;  // destroyed streams: their handles are handed out again
  std::set<CUstream_st*> streams;
  unsigned long long next_stream_id = 1;
  std::map<std::pair<const void*, int>, int> smem_attr;
  std::map<std::pair<const void*, int>, int> attr_sets;
};

State& state() {
  static State* s = new State();  // leaked: tensors may free during static destruction
  return *s;
}

constexpr size_t kDefaultLimit = size_t(4) << 30;  // 4 GiB per emulated device

size_t device_limit(State& s, int d) {
  return s.limit[d] ? s.limit[d] : kDefaultLimit;
}

thread_local int t_device = 0;
thread_local cudaError_t t_error = cudaSuccess;
thread_local std::string t_detail;
cudaError_t g_pending[kDeviceCount] = {};
std::string g_pending_detail[kDeviceCount];

// Returns (and clears) the pending execution fault of `device`, making it the last error.
cudaError_t take_pending(int device) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  const cudaError_t e = g_pending[device];
  if (e != cudaSuccess) {
    t_error = cudaSuccess;
    t_detail = g_pending_detail[device];
    g_pending[device] = cudaSuccess;
  }
  return e;
}

// Fill byte of fresh allocations (PG_EMU_FILL=none keeps whatever malloc returns): 0xff makes
// every float NaN and every integer -1, so a kernel that reads memory nobody wrote shows it.
int fill_byte() {
  static const int b = [] {
    const char* v = std::getenv("PG_EMU_FILL");
    if (v != nullptr && std::strcmp(v, "none") == 0) return -1;
    return 0xff;
  }();
  return b;
}

bool valid_device(int d) {
  return d >= 0 && d < kDeviceCount;
}

// The allocation containing p (one-past-the-end included), or nullptr.
const std::pair<const uintptr_t, Alloc>* find_alloc(State& s, const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  auto it = s.allocs.upper_bound(a);
  if (it == s.allocs.begin()) return nullptr;
  --it;
  if (a <= it->first + it->second.size) return &*it;
  return nullptr;
}

void complete_held(CUstream_st* st) {
  for (CUevent_st* e : st->held_events) e->complete = true;
  st->held_events.clear();
  st->held = false;
}

}  // namespace

cudaError_t set_error(cudaError_t err, const std::string& detail) {
  if (err != cudaSuccess) {
    t_error = err;
    t_detail = detail;
  }
  return err;
}

std::string take_error_detail() {
  std::string d;
  d.swap(t_detail);
  return d;
}

int current_device_index() {
  return t_device;
}

void set_pending_error(int device, cudaError_t err, const std::string& detail) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (g_pending[device] == cudaSuccess) {  // the first fault is the one to report
    g_pending[device] = err;
    g_pending_detail[device] = detail;
  }
}

int stream_device(cudaStream_t s) {
  if (s == nullptr) return t_device;
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mu);
  if (st.streams.count(s) == 0 || !s->live)
    throw EmuError(cudaErrorInvalidResourceHandle, "unknown or destroyed stream");
  return s->device;
}

int func_max_dynamic_smem(const void* kernel, int device) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.smem_attr.find({kernel, device});
  return it == s.smem_attr.end() ? kDefaultSmem : it->second;
}

namespace {
std::pair<Order, unsigned long long> parse_order(const char* v) {
  if (v == nullptr || v[0] == '\0' || std::strcmp(v, "forward") == 0) return {Order::Forward, 0ull};
  if (std::strcmp(v, "reverse") == 0) return {Order::Reverse, 0ull};
  if (std::strncmp(v, "shuffle:", 8) == 0) return {Order::Shuffle, std::strtoull(v + 8, nullptr, 10)};
  std::fprintf(stderr, "PG_EMU_ORDER=%s: expected forward, reverse or shuffle:SEED\n", v);
  std::abort();
}
std::atomic<int> g_order{-1};
std::atomic<unsigned long long> g_seed{0};
}  // namespace

void set_thread_order(const char* order) {
  const auto o = parse_order(order);
  g_seed = o.second;
  g_order = static_cast<int>(o.first);
}

Order thread_order(unsigned long long* seed) {
  if (g_order.load() < 0) set_thread_order(std::getenv("PG_EMU_ORDER"));
  *seed = g_seed.load();
  return static_cast<Order>(g_order.load());
}

int device_of_pointer(const void* p) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  const auto* a = find_alloc(s, p);
  return a ? a->second.device : -1;
}

int func_attribute_set_count(const void* kernel, int device) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.attr_sets.find({kernel, device});
  return it == s.attr_sets.end() ? 0 : it->second;
}

int max_func_attribute_set_count() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  int m = 0;
  for (const auto& [key, n] : s.attr_sets) m = std::max(m, n);
  return m;
}

void set_device_memory_limit(int device, size_t bytes) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.limit[device] = bytes;
}

size_t device_memory_in_use(int device) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.in_use[device];
}

int device_synchronize_count(int device) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.sync_count[device];
}

void hold_stream(cudaStream_t stream, bool held) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (held) {
    stream->held = true;
  } else {
    complete_held(stream);
  }
}

}  // namespace pg_emu

using namespace pg_emu;

// ---- errors ----
const char* cudaGetErrorName(cudaError_t err) {
  switch (err) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError:
      return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration:
      return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer:
      return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection:
      return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorInvalidDevice:
      return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle:
      return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady:
      return "cudaErrorNotReady";
    case cudaErrorIllegalAddress:
      return "cudaErrorIllegalAddress";
    case cudaErrorLaunchOutOfResources:
      return "cudaErrorLaunchOutOfResources";
    case cudaErrorLaunchFailure:
      return "cudaErrorLaunchFailure";
    case cudaErrorCooperativeLaunchTooLarge:
      return "cudaErrorCooperativeLaunchTooLarge";
    case cudaErrorAssert:
      return "cudaErrorAssert";
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t err) {
  switch (err) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInitializationError:
      return "initialization error";
    case cudaErrorInvalidConfiguration:
      return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer:
      return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection:
      return "invalid copy direction for memcpy";
    case cudaErrorInvalidDevice:
      return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle:
      return "invalid resource handle";
    case cudaErrorNotReady:
      return "device not ready";
    case cudaErrorIllegalAddress:
      return "an illegal memory access was encountered";
    case cudaErrorLaunchOutOfResources:
      return "too many resources requested for launch";
    case cudaErrorLaunchFailure:
      return "unspecified launch failure";
    case cudaErrorCooperativeLaunchTooLarge:
      return "too many blocks in cooperative launch";
    case cudaErrorAssert:
      return "device-side assert triggered";
  }
  return "unknown error";
}

cudaError_t cudaGetLastError() {
  const cudaError_t e = t_error;
  t_error = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() {
  return t_error;
}

// ---- devices ----
cudaError_t cudaGetDeviceCount(int* count) {
  *count = kDeviceCount;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  if (!valid_device(device)) return set_error(cudaErrorInvalidDevice, "cudaSetDevice(" + std::to_string(device) + ")");
  t_device = device;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  *device = t_device;
  return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (!valid_device(device)) return set_error(cudaErrorInvalidDevice);
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock:
      *value = kMaxThreadsPerBlock;
      break;
    case cudaDevAttrMaxBlockDimX:
      *value = 1024;
      break;
    case cudaDevAttrMaxGridDimX:
      *value = 2147483647;
      break;
    case cudaDevAttrMaxGridDimY:
      *value = 65535;
      break;
    case cudaDevAttrMaxGridDimZ:
      *value = 65535;
      break;
    case cudaDevAttrMaxSharedMemoryPerBlock:
      *value = kDefaultSmem;
      break;
    case cudaDevAttrWarpSize:
      *value = 32;
      break;
    case cudaDevAttrMultiProcessorCount:
      *value = kSmCount;
      break;
    case cudaDevAttrMaxThreadsPerMultiProcessor:
      *value = kMaxThreadsPerSm;
      break;
    case cudaDevAttrComputeCapabilityMajor:
      *value = 9;
      break;
    case cudaDevAttrComputeCapabilityMinor:
      *value = 0;
      break;
    case cudaDevAttrCooperativeLaunch:
      *value = 1;
      break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin:
      *value = kOptinSmem;
      break;
    default:
      return set_error(cudaErrorInvalidValue, "cudaDeviceGetAttribute: attribute not emulated");
  }
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() {
  if (cudaError_t e = take_pending(t_device)) return e;
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.sync_count[t_device]++;
  for (CUstream_st* st : s.streams) {
    if (st->live && st->device == t_device) complete_held(st);
  }
  return cudaSuccess;
}
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  *total_bytes = device_limit(s, t_device);
  *free_bytes = *total_bytes - std::min(*total_bytes, s.in_use[t_device]);
  return cudaSuccess;
}

// ---- memory ----
namespace {
// The host block behind a device allocation of `size` bytes (256-byte aligned, like cudaMalloc).
size_t host_block_bytes(size_t size) {
  return (std::max<size_t>(size, 1) + 255) / 256 * 256;
}
}  // namespace

cudaError_t cudaMalloc(void** ptr, size_t size) {
  State& s = state();
  *ptr = nullptr;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.in_use[t_device] + size > device_limit(s, t_device)) {
      return set_error(cudaErrorMemoryAllocation, "emulated device " + std::to_string(t_device) + " is full");
    }
  }
  const size_t rounded = host_block_bytes(size);
  void* p = std::aligned_alloc(256, rounded);
  if (p == nullptr) return set_error(cudaErrorMemoryAllocation, "host allocation failed");
  if (fill_byte() >= 0) std::memset(p, fill_byte(), size);
  asan::poison(static_cast<char*>(p) + size, rounded - size);  // the rounding is not the buffer's
  std::lock_guard<std::mutex> lock(s.mu);
  s.allocs[reinterpret_cast<uintptr_t>(p)] = Alloc{size, t_device};
  s.in_use[t_device] += size;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (ptr == nullptr) return cudaSuccess;
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.allocs.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == s.allocs.end())
    return set_error(cudaErrorInvalidDevicePointer, "cudaFree of a pointer cudaMalloc did not return");
  s.in_use[it->second.device] -= it->second.size;
  asan::unpoison(ptr, host_block_bytes(it->second.size));
  s.allocs.erase(it);
  std::free(ptr);
  return cudaSuccess;
}

namespace {
// Checks that [p, p + n) lies in one device allocation (device) or in host memory (host).
cudaError_t check_range(const void* p, size_t n, bool device, const char* what) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  const auto* a = find_alloc(s, p);
  if (device) {
    if (a == nullptr) return set_error(cudaErrorInvalidValue, std::string(what) + ": not device memory");
    const uintptr_t off = reinterpret_cast<uintptr_t>(p) - a->first;
    if (off + n > a->second.size) {
      return set_error(cudaErrorInvalidValue, std::string(what) + ": range runs past the end of its device allocation");
    }
  } else if (a != nullptr && n > 0) {
    return set_error(cudaErrorInvalidValue, std::string(what) + ": device memory passed as host memory");
  }
  return cudaSuccess;
}
}  // namespace

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  if (cudaError_t e = take_pending(t_device)) return e;
  return cudaMemcpyAsync(dst, src, count, kind, nullptr);
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t stream) {
  try {
    stream_device(stream);
  } catch (const EmuError& e) {
    return set_error(e.code, std::string("cudaMemcpyAsync: ") + e.what());
  }
  if (count == 0) return cudaSuccess;
  bool dst_dev = false, src_dev = false;
  switch (kind) {
    case cudaMemcpyHostToHost:
      break;
    case cudaMemcpyHostToDevice:
      dst_dev = true;
      break;
    case cudaMemcpyDeviceToHost:
      src_dev = true;
      break;
    case cudaMemcpyDeviceToDevice:
      dst_dev = src_dev = true;
      break;
    default:
      return set_error(cudaErrorInvalidMemcpyDirection);
  }
  if (cudaError_t e = check_range(dst, count, dst_dev, "cudaMemcpy destination")) return e;
  if (cudaError_t e = check_range(src, count, src_dev, "cudaMemcpy source")) return e;
  std::memmove(dst, src, count);
  return cudaSuccess;
}
cudaError_t cudaMemset(void* ptr, int value, size_t count) {
  return cudaMemsetAsync(ptr, value, count, nullptr);
}
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t count, cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  if (cudaError_t e = check_range(ptr, count, true, "cudaMemset")) return e;
  std::memset(ptr, value, count);
  return cudaSuccess;
}

// ---- streams and events ----
cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  return cudaStreamCreateWithFlags(stream, 0);
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  CUstream_st* st;
  if (!s.free_streams.empty()) {
    st = s.free_streams.back();  // like a driver, hand a destroyed stream's handle out again
    s.free_streams.pop_back();
  } else {
    st = new CUstream_st();
    s.streams.insert(st);
  }
  *st = CUstream_st{};
  st->id = s.next_stream_id++;
  st->device = t_device;
  st->live = true;
  *stream = st;
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (stream == nullptr || s.streams.count(stream) == 0 || !stream->live)
    return set_error(cudaErrorInvalidResourceHandle);
  complete_held(stream);
  stream->live = false;
  s.free_streams.push_back(stream);
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  int dev = 0;
  try {
    dev = stream_device(stream);
  } catch (const EmuError& e) {
    return set_error(e.code, std::string("cudaStreamSynchronize: ") + e.what());
  }
  if (cudaError_t e = take_pending(dev)) return e;
  if (stream != nullptr) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    complete_held(stream);
  }
  return cudaSuccess;
}
cudaError_t cudaStreamQuery(cudaStream_t stream) {
  if (stream == nullptr) return cudaSuccess;
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  return stream->held_events.empty() ? cudaSuccess : cudaErrorNotReady;
}
cudaError_t cudaStreamGetId(cudaStream_t stream, unsigned long long* id) {
  if (stream == nullptr) {
    *id = 0;
    return cudaSuccess;
  }
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.streams.count(stream) == 0 || !stream->live) return set_error(cudaErrorInvalidResourceHandle);
  *id = stream->id;
  return cudaSuccess;
}
cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned) {
  return cudaSuccess;
}
cudaError_t cudaEventCreate(cudaEvent_t* event) {
  return cudaEventCreateWithFlags(event, 0);
}
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned) {
  *event = new CUevent_st();
  (*event)->device = t_device;
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  for (CUstream_st* st : s.streams) {
    st->held_events.erase(std::remove(st->held_events.begin(), st->held_events.end(), event), st->held_events.end());
  }
  delete event;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  int dev = 0;
  try {
    dev = stream_device(stream);
  } catch (const EmuError& e) {
    return set_error(e.code, std::string("cudaEventRecord: ") + e.what());
  }
  if (dev != event->device)
    return set_error(cudaErrorInvalidResourceHandle, "cudaEventRecord: event and stream on different devices");
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  event->stream = stream;
  event->complete = true;
  if (stream != nullptr && stream->held) {
    event->complete = false;
    stream->held_events.push_back(event);
  }
  return cudaSuccess;
}
cudaError_t cudaEventQuery(cudaEvent_t event) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  return event->complete ? cudaSuccess : cudaErrorNotReady;
}
cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (cudaError_t e = take_pending(event->device)) return e;
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (!event->complete && event->stream != nullptr) complete_held(event->stream);
  return cudaSuccess;
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t, cudaEvent_t) {
  *ms = 0.0f;
  return cudaSuccess;
}

// ---- functions ----
cudaError_t pg_emu_func_set_attribute(const void* func, cudaFuncAttribute attr, int value) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.attr_sets[{func, t_device}]++;
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || value > kOptinSmem) {
      return set_error(cudaErrorInvalidValue, "cudaFuncSetAttribute: " + std::to_string(value) +
                                                  " B of dynamic shared memory exceeds the opt-in limit");
    }
    s.smem_attr[{func, t_device}] = value;
  }
  return cudaSuccess;
}

cudaError_t pg_emu_occupancy(int* blocks, const void*, int block_size, size_t dynamic_smem) {
  if (block_size <= 0 || block_size > kMaxThreadsPerBlock) return set_error(cudaErrorInvalidValue);
  // Two blocks per SM at most: enough to exercise multi-block cooperative grids while keeping
  // the number of host threads of a cooperative launch small.
  int by_threads = kMaxThreadsPerSm / block_size;
  int by_smem = dynamic_smem ? static_cast<int>(kOptinSmem / dynamic_smem) : 2;
  *blocks = std::max(0, std::min({2, by_threads, by_smem}));
  return cudaSuccess;
}
