// The emulator's kernel launch: blocks of fibers, barriers, warp exchanges.
//
// A grid runs synchronously on the launching host thread, one block after another; each CUDA
// thread of the block is a Boost.Context fiber. A fiber runs until it reaches a synchronisation
// point (__syncthreads*, a warp operation, grid.sync) or exits; when no fiber can run, the
// scheduler resolves complete warp operations, then the block barrier, and reports what can
// never complete (barrier divergence, warp operations with missing lanes). Between
// synchronisation points the threads run in PG_EMU_ORDER order (forward, reverse, or a seeded
// shuffle that changes every round), which exposes missing barriers.
// Cooperative grids run every block at once, each on its own host thread, with a grid barrier.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <boost/context/fiber.hpp>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <numeric>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "cuda_emu/device.h"
#include "emu_asan.h"
#include "emu_internal.h"

namespace ctx = boost::context;

namespace pg_emu {

namespace {

// ---- fiber stacks: mmap'd with a guard page, pooled per host thread ----
size_t stack_bytes() {
  static const size_t n = [] {
    const char* v = std::getenv("PG_EMU_STACK_KB");
#if defined(__SANITIZE_ADDRESS__)
    size_t kb = 512;  // ASan's redzones grow frames
#else
    size_t kb = 128;
#endif
    if (v != nullptr) kb = std::strtoull(v, nullptr, 10);
    return kb * 1024;
  }();
  return n;
}

struct StackPool {
  std::vector<void*> free;  // bases (guard page first)
  ~StackPool() {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    for (void* b : free) {
      // Stale shadow would otherwise land on whatever is mapped here next (e.g. a new host
      // thread's stack and TLS, which glibc maps without ASan noticing).
      asan::unpoison(static_cast<char*>(b) + page, stack_bytes());
      munmap(b, stack_bytes() + page);
    }
  }
};
thread_local StackPool t_stacks;

struct PooledStack {
  asan::StackBounds* bounds = nullptr;  // receives the usable stack range (for ASan)
  ctx::stack_context allocate() {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t total = stack_bytes() + page;
    void* base;
    if (!t_stacks.free.empty()) {
      base = t_stacks.free.back();
      t_stacks.free.pop_back();
    } else {
      base = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (base == MAP_FAILED) throw std::bad_alloc();
      mprotect(base, page, PROT_NONE);  // overflow faults instead of corrupting a neighbour
    }
    ctx::stack_context sc;
    sc.size = stack_bytes();
    sc.sp = static_cast<char*>(base) + total;
    if (bounds != nullptr) *bounds = asan::StackBounds{static_cast<char*>(base) + page, stack_bytes()};
    return sc;
  }
  void deallocate(ctx::stack_context& sc) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    // A fiber ends by a switch, not by returning: ASan's poison of the frames still live then
    // (Boost's fiber_entry, at the top of the stack) would outlive the fiber. Returned frames
    // cleared their own shadow, so the top of the stack is enough here; ~StackPool clears all.
    const size_t top = std::min<size_t>(sc.size, 16 * 1024);
    asan::unpoison(static_cast<char*>(sc.sp) - top, top);
    t_stacks.free.push_back(static_cast<char*>(sc.sp) - sc.size - page);
  }
};

enum class St { Runnable, Barrier, Warp, Done };

struct Thread {
  ThreadView view{};
  ctx::fiber fiber;  // the thread while it is suspended
  ctx::fiber sink;   // the scheduler while the thread runs
  asan::StackBounds stack;
  void* fake_stack = nullptr;  // ASan's fake stack of the thread while it is suspended
  bool abandoned = false;      // the block failed: unwind instead of continuing
  St st = St::Runnable;
  BarrierOp bop = BarrierOp::Sync;
  int pred = 0;
  int bres = 0;
  WarpOp wop = WarpOp::Sync;
  unsigned mask = 0;
  uint64_t val = 0;
  int arg = 0;
  int width = 32;
  uint64_t wres = 0;
  std::exception_ptr error;
};

struct Grid;

struct Block {
  BlockState state{};
  std::vector<Thread> threads;
  std::vector<unsigned char> dyn;  // dynamic shared memory (16-byte aligned storage below)
  unsigned char* dyn_ptr = nullptr;
};

struct Grid {
  const char* name;
  dim3 grid, block;
  size_t smem;
  bool cooperative;
  const std::function<void()>* body;
  Order order;
  unsigned long long seed;
  // grid barrier of a cooperative launch
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  int finished = 0;
  unsigned long long generation = 0;
  bool aborted = false;
  int nblocks = 1;
};

thread_local Thread* t_thread = nullptr;
thread_local Block* t_block = nullptr;
thread_local Grid* t_grid = nullptr;

const char* warp_op_name(WarpOp op) {
  switch (op) {
    case WarpOp::Sync:
      return "__syncwarp";
    case WarpOp::ShflIdx:
      return "__shfl_sync";
    case WarpOp::ShflUp:
      return "__shfl_up_sync";
    case WarpOp::ShflDown:
      return "__shfl_down_sync";
    case WarpOp::ShflXor:
      return "__shfl_xor_sync";
    case WarpOp::Ballot:
      return "__ballot_sync";
    case WarpOp::Any:
      return "__any_sync";
    case WarpOp::All:
      return "__all_sync";
  }
  return "?";
}
const char* barrier_name(BarrierOp op) {
  switch (op) {
    case BarrierOp::Sync:
      return "__syncthreads";
    case BarrierOp::And:
      return "__syncthreads_and";
    case BarrierOp::Or:
      return "__syncthreads_or";
    case BarrierOp::Count:
      return "__syncthreads_count";
    case BarrierOp::Grid:
      return "grid.sync";
  }
  return "?";
}

std::string where(const Grid& g, const Block& b) {
  std::ostringstream os;
  os << "kernel " << g.name << ", block (" << b.state.block_idx.x << "," << b.state.block_idx.y << ","
     << b.state.block_idx.z << ")";
  return os.str();
}

std::string state_text(const Thread& t) {
  switch (t.st) {
    case St::Done:
      return "has exited";
    case St::Barrier:
      return std::string("waits at ") + barrier_name(t.bop);
    case St::Warp: {
      std::ostringstream os;
      os << "waits in " << warp_op_name(t.wop) << " with mask 0x" << std::hex << t.mask;
      return os.str();
    }
    case St::Runnable:
      return "is runnable";
  }
  return "?";
}

// Thrown in a suspended CUDA thread of a failed block to unwind its frames.
struct Abandoned {};

// Suspends the running thread (back to the scheduler).
void suspend() {
  Thread* th = t_thread;
  asan::start_switch(&th->fake_stack, asan::host_stack());
  th->sink = std::move(th->sink).resume();
  asan::finish_switch(th->fake_stack);
  // resumed: the scheduler set t_thread/t_block again before resuming us
  if (th->abandoned) throw Abandoned{};
}

// Runs thread t until its next synchronisation point or its end.
void resume(Thread& t) {
  void* fake = nullptr;
  t_thread = &t;
  asan::start_switch(&fake, t.stack);
  t.fiber = std::move(t.fiber).resume();
  asan::finish_switch(fake);
  t_thread = nullptr;
}

// Ends every unfinished thread of a failed block by unwinding it on its own stack (rather than
// by Boost's forced unwind from the fiber's destructor, a stack switch ASan would not see).
void abandon_threads(Block& b) {
  for (Thread& t : b.threads) {
    if (t.st == St::Done || !t.fiber) continue;
    t.abandoned = true;
    resume(t);
  }
  b.threads.clear();
}

// Computes the results of the complete warp operations of the block; true if any completed.
// Sets *blocked to a description of the first incomplete one.
bool resolve_warps(Grid& g, Block& b, std::string* blocked) {
  bool progressed = false;
  const int n = static_cast<int>(b.threads.size());
  for (int base = 0; base < n; base += 32) {
    const int lanes = std::min(32, n - base);
    for (int l = 0; l < lanes; ++l) {
      Thread& t = b.threads[base + l];
      if (t.st != St::Warp) continue;
      const unsigned m = t.mask;
      // Formatted only on the error paths: this loop runs at every warp operation of every lane.
      const auto who = [&] {
        std::ostringstream os;
        os << where(g, b) << ": warp " << base / 32 << " lane " << l << " (thread " << base + l << ") " << state_text(t);
        return os.str();
      };
      if (((m >> l) & 1u) == 0) throw EmuError(cudaErrorLaunchFailure, who() + " that excludes its own lane");
      if (lanes < 32 && (m >> lanes) != 0) {
        throw EmuError(cudaErrorLaunchFailure,
                       who() + " naming lanes that do not exist (the block has " + std::to_string(n) + " threads)");
      }
      bool complete = true;
      for (int j = 0; j < lanes && complete; ++j) {
        if (((m >> j) & 1u) == 0) continue;
        const Thread& u = b.threads[base + j];
        if (u.st != St::Warp || u.mask != m || u.wop != t.wop) {
          complete = false;
          if (blocked->empty()) *blocked = who() + ", but lane " + std::to_string(j) + " " + state_text(u);
        }
      }
      if (!complete) continue;
      // Everyone of the mask is here: exchange.
      uint64_t ballot = 0;
      for (int j = 0; j < lanes; ++j) {
        if ((m >> j) & 1u) ballot |= (b.threads[base + j].val != 0 ? 1ull : 0ull) << j;
      }
      for (int j = 0; j < lanes; ++j) {
        if (((m >> j) & 1u) == 0) continue;
        Thread& u = b.threads[base + j];
        switch (u.wop) {
          case WarpOp::Sync:
            u.wres = 0;
            break;
          case WarpOp::Ballot:
            u.wres = ballot;
            break;
          case WarpOp::Any:
            u.wres = ballot != 0;
            break;
          case WarpOp::All:
            u.wres = ballot == (m & (lanes == 32 ? 0xffffffffull : ((1ull << lanes) - 1)));
            break;
          default: {
            // PTX shfl.sync: c = ((32 - width) << 8) | clamp, clamp = 0 for up, 0x1f otherwise.
            const int w = u.width;
            if (w <= 0 || w > 32 || (w & (w - 1)) != 0) {
              throw EmuError(cudaErrorLaunchFailure, where(g, b) + ": " + warp_op_name(u.wop) + " with width " +
                                                         std::to_string(w) + " (must be a power of two <= 32)");
            }
            const int segmask = (32 - w) & 0x1f;
            const int bval = u.arg & 0x1f;
            const int min_lane = j & segmask;
            const int clamp = u.wop == WarpOp::ShflUp ? 0 : 0x1f;
            const int max_lane = min_lane | (clamp & ~segmask);
            int src = j;
            bool ok = false;
            switch (u.wop) {
              case WarpOp::ShflUp:
                src = j - bval;
                ok = src >= max_lane;
                break;
              case WarpOp::ShflDown:
                src = j + bval;
                ok = src <= max_lane;
                break;
              case WarpOp::ShflXor:
                src = j ^ bval;
                ok = src <= max_lane;
                break;
              default:
                src = min_lane | (bval & ~segmask);
                ok = src <= max_lane;
                break;
            }
            if (!ok) src = j;  // out of range: the lane keeps its own value
            if (src >= lanes || ((m >> src) & 1u) == 0) {
              throw EmuError(cudaErrorLaunchFailure, where(g, b) + ": warp " + std::to_string(base / 32) + " lane " +
                                                         std::to_string(j) + " reads lane " + std::to_string(src) +
                                                         " in " + warp_op_name(u.wop) +
                                                         ", which is not in the mask (undefined value)");
            }
            u.wres = b.threads[base + src].val;
          }
        }
      }
      for (int j = 0; j < lanes; ++j) {
        if ((m >> j) & 1u) b.threads[base + j].st = St::Runnable;
      }
      progressed = true;
    }
  }
  return progressed;
}

void grid_barrier(Grid& g, Block& b) {
  std::unique_lock<std::mutex> lock(g.mu);
  if (g.finished > 0) {
    g.aborted = true;
    g.cv.notify_all();
    throw EmuError(cudaErrorLaunchFailure, where(g, b) + ": grid.sync, but another block has already exited");
  }
  const unsigned long long gen = g.generation;
  if (++g.arrived == g.nblocks) {
    g.arrived = 0;
    g.generation++;
    g.cv.notify_all();
    return;
  }
  g.cv.wait(lock, [&] { return g.generation != gen || g.aborted; });
  if (g.generation == gen) throw EmuError(cudaErrorLaunchFailure, "grid.sync abandoned: another block failed");
}

void run_block_threads(Grid& g, Block& b);

// Runs every thread of block b to its end; on failure unwinds the unfinished ones, then throws.
void run_block(Grid& g, Block& b) {
  try {
    run_block_threads(g, b);
  } catch (...) {
    abandon_threads(b);
    t_block = nullptr;
    t_grid = nullptr;
    throw;
  }
  b.threads.clear();
}

void run_block_threads(Grid& g, Block& b) {
  const unsigned nx = g.block.x, ny = g.block.y, nz = g.block.z;
  const int n = static_cast<int>(nx * ny * nz);
  b.threads.clear();
  b.threads.resize(n);
  for (int i = 0; i < n; ++i) {
    Thread& t = b.threads[i];
    t.view.linear = static_cast<unsigned>(i);
    t.view.thread_idx = uint3{i % nx, (i / nx) % ny, i / (nx * ny)};
    t.fiber = ctx::fiber(std::allocator_arg, PooledStack{&t.stack}, [&t, &g](ctx::fiber&& sink) {
      asan::finish_switch(nullptr);
      t.sink = std::move(sink);
      if (!t.abandoned) {
        try {
          (*g.body)();
        } catch (const ctx::detail::forced_unwind&) {
          throw;
        } catch (const Abandoned&) {
        } catch (...) {
          t.error = std::current_exception();
        }
      }
      t.st = St::Done;
      asan::start_switch(nullptr, asan::host_stack());  // this stack ends here
      return std::move(t.sink);
    });
  }
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (g.order == Order::Reverse) std::reverse(order.begin(), order.end());
  std::mt19937_64 rng(g.seed ^ (0x9e3779b97f4a7c15ull * (b.state.block_idx.x + 1)));
  t_block = &b;
  t_grid = &g;
  while (true) {
    if (g.order == Order::Shuffle) std::shuffle(order.begin(), order.end(), rng);
    for (int i : order) {
      Thread& t = b.threads[i];
      if (t.st != St::Runnable) continue;
      resume(t);
      if (t.error) std::rethrow_exception(t.error);
    }
    int done = 0, at_barrier = 0, at_warp = 0;
    for (const Thread& t : b.threads) {
      done += t.st == St::Done;
      at_barrier += t.st == St::Barrier;
      at_warp += t.st == St::Warp;
    }
    if (done == n) break;
    if (at_warp > 0) {
      std::string blocked;
      if (resolve_warps(g, b, &blocked)) continue;
      throw EmuError(cudaErrorLaunchFailure, "warp operation with missing lanes: " + blocked);
    }
    // Everyone left waits at a barrier.
    const Thread* first = nullptr;
    const Thread* exited = nullptr;
    for (const Thread& t : b.threads) {
      if (t.st == St::Barrier && first == nullptr) first = &t;
      if (t.st == St::Done && exited == nullptr) exited = &t;
    }
    if (exited != nullptr) {
      throw EmuError(cudaErrorLaunchFailure, "barrier divergence: " + where(g, b) + ": " + std::to_string(at_barrier) +
                                                 " thread(s) wait at " + barrier_name(first->bop) + " (e.g. thread " +
                                                 std::to_string(first->view.linear) + "), but " + std::to_string(done) +
                                                 " have exited without reaching it (e.g. thread " +
                                                 std::to_string(exited->view.linear) + ")");
    }
    for (const Thread& t : b.threads) {
      if ((t.bop == BarrierOp::Grid) != (first->bop == BarrierOp::Grid)) {
        throw EmuError(cudaErrorLaunchFailure, "barrier divergence: " + where(g, b) + ": thread " +
                                                   std::to_string(first->view.linear) + " waits at " +
                                                   barrier_name(first->bop) + ", thread " +
                                                   std::to_string(t.view.linear) + " at " + barrier_name(t.bop));
      }
    }
    int all = 1, any = 0, count = 0;
    for (const Thread& t : b.threads) {
      all &= t.pred != 0;
      any |= t.pred != 0;
      count += t.pred != 0;
    }
    if (first->bop == BarrierOp::Grid) {
      if (!g.cooperative) {
        throw EmuError(cudaErrorLaunchFailure, where(g, b) + ": grid.sync in a kernel not launched cooperatively");
      }
      grid_barrier(g, b);
    }
    for (Thread& t : b.threads) {
      t.bres = t.bop == BarrierOp::And ? all : t.bop == BarrierOp::Or ? any : count;
      t.st = St::Runnable;
    }
  }
  t_block = nullptr;
  t_grid = nullptr;
}

void prepare_block(Grid& g, Block& b, unsigned x, unsigned y, unsigned z) {
  b.state.block_idx = uint3{x, y, z};
  b.state.block_dim = g.block;
  b.state.grid_dim = g.grid;
  if (g.smem > 0) {
    asan::unpoison(b.dyn.data(), b.dyn.size());
    b.dyn.assign(g.smem + 16, 0xff);
    b.dyn_ptr = reinterpret_cast<unsigned char*>((reinterpret_cast<uintptr_t>(b.dyn.data()) + 15) & ~uintptr_t(15));
    // The alignment slack past the requested size is not shared memory the kernel may touch.
    unsigned char* end = b.dyn.data() + b.dyn.size();
    asan::poison(b.dyn_ptr + g.smem, static_cast<size_t>(end - (b.dyn_ptr + g.smem)));
  } else {
    b.dyn_ptr = nullptr;
  }
}

long g_launches = 0;
std::mutex g_launch_mu;

}  // namespace

void run_grid(const char* name, const void* kernel, dim3 grid, dim3 block, size_t dynamic_smem, bool cooperative,
              const std::function<void()>& body, int dev, unsigned long long threads);

const ThreadView& current_thread() {
  return t_thread->view;
}
const BlockState& current_block() {
  return t_block->state;
}

void* dynamic_shared() {
  return t_block->dyn_ptr;
}

uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t value, int lane_arg, int width) {
  Thread* t = t_thread;
  t->st = St::Warp;
  t->wop = op;
  t->mask = mask;
  t->val = value;
  t->arg = lane_arg;
  t->width = width;
  suspend();
  return t->wres;
}

int block_barrier(BarrierOp op, int predicate) {
  Thread* t = t_thread;
  t->st = St::Barrier;
  t->bop = op;
  t->pred = predicate;
  suspend();
  return t->bres;
}

long launch_count() {
  std::lock_guard<std::mutex> lock(g_launch_mu);
  return g_launches;
}

void launch(const char* name, const void* kernel, dim3 grid, dim3 block, size_t dynamic_smem, cudaStream_t stream,
            bool cooperative, const std::vector<PointerArg>& pointers, const std::function<void()>& body) {
  {
    std::lock_guard<std::mutex> lock(g_launch_mu);
    g_launches++;
  }
  try {
    const int dev = current_device_index();
    const int sdev = stream_device(stream);
    const std::string k = std::string("kernel ") + name;
    if (sdev != dev) {
      throw EmuError(cudaErrorInvalidResourceHandle, k + ": launched on device " + std::to_string(dev) +
                                                         " with a stream of device " + std::to_string(sdev));
    }
    const unsigned long long threads = 1ull * block.x * block.y * block.z;
    if (grid.x == 0 || grid.y == 0 || grid.z == 0) {
      throw EmuError(cudaErrorInvalidConfiguration, k + ": empty grid (" + std::to_string(grid.x) + "," +
                                                        std::to_string(grid.y) + "," + std::to_string(grid.z) + ")");
    }
    if (grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535) {
      throw EmuError(cudaErrorInvalidConfiguration, k + ": grid (" + std::to_string(grid.x) + "," +
                                                        std::to_string(grid.y) + "," + std::to_string(grid.z) +
                                                        ") exceeds (2^31-1, 65535, 65535)");
    }
    if (threads == 0 || threads > kMaxThreadsPerBlock || block.x > 1024 || block.y > 1024 || block.z > 64) {
      throw EmuError(cudaErrorInvalidConfiguration, k + ": block (" + std::to_string(block.x) + "," +
                                                        std::to_string(block.y) + "," + std::to_string(block.z) +
                                                        ") is empty or has more than 1024 threads");
    }
    if (dynamic_smem > static_cast<size_t>(func_max_dynamic_smem(kernel, dev))) {
      throw EmuError(cudaErrorInvalidValue, k + ": " + std::to_string(dynamic_smem) +
                                                " B of dynamic shared memory, but the kernel's limit is " +
                                                std::to_string(func_max_dynamic_smem(kernel, dev)) +
                                                " B (raise it with cudaFuncAttributeMaxDynamicSharedMemorySize)");
    }
    for (const PointerArg& p : pointers) {
      const int pd = device_of_pointer(p.ptr);
      if (pd != dev) {
        throw EmuError(cudaErrorIllegalAddress,
                       k + ": argument " + std::to_string(p.index) + " points to " +
                           (pd < 0 ? std::string("host memory") : "memory of device " + std::to_string(pd)) +
                           ", but the kernel runs on device " + std::to_string(dev));
      }
    }
    // From here on a problem is an execution fault: like a GPU, the emulator reports it at the
    // next synchronisation (PG_CUDA_SYNC=1 makes that the launch itself).
    try {
      run_grid(name, kernel, grid, block, dynamic_smem, cooperative, body, dev, threads);
    } catch (const EmuError& e) {
      set_pending_error(dev, e.code, e.what());
    } catch (const std::exception& e) {
      set_pending_error(dev, cudaErrorLaunchFailure, std::string("kernel ") + name + ": " + e.what());
    }
  } catch (const EmuError& e) {
    set_error(e.code, e.what());
  }
  t_block = nullptr;
  t_thread = nullptr;
}

void run_grid(const char* name, const void* kernel, dim3 grid, dim3 block, size_t dynamic_smem, bool cooperative,
              const std::function<void()>& body, int dev, unsigned long long threads) {
  const std::string k = std::string("kernel ") + name;
  {
    Grid g;
    g.name = name;
    g.grid = grid;
    g.block = block;
    g.smem = dynamic_smem;
    g.cooperative = cooperative;
    g.body = &body;
    g.order = thread_order(&g.seed);
    const unsigned long long nblocks = 1ull * grid.x * grid.y * grid.z;
    if (!cooperative) {
      Block b;
      for (unsigned z = 0; z < grid.z; ++z) {
        for (unsigned y = 0; y < grid.y; ++y) {
          for (unsigned x = 0; x < grid.x; ++x) {
            prepare_block(g, b, x, y, z);
            run_block(g, b);
          }
        }
      }
    } else {
      int per_sm = 0;
      pg_emu_occupancy(&per_sm, kernel, static_cast<int>(threads), dynamic_smem);
      if (nblocks > static_cast<unsigned long long>(per_sm) * kSmCount) {
        throw EmuError(cudaErrorCooperativeLaunchTooLarge, k + ": cooperative grid of " + std::to_string(nblocks) +
                                                               " blocks, but only " +
                                                               std::to_string(per_sm * kSmCount) + " can be resident");
      }
      g.nblocks = static_cast<int>(nblocks);
      std::vector<Block> blocks(nblocks);
      std::vector<std::exception_ptr> errors(nblocks);
      std::vector<std::thread> workers;
      unsigned long long i = 0;
      for (unsigned z = 0; z < grid.z; ++z) {
        for (unsigned y = 0; y < grid.y; ++y) {
          for (unsigned x = 0; x < grid.x; ++x, ++i) {
            prepare_block(g, blocks[i], x, y, z);
            workers.emplace_back([&g, &blocks, &errors, i, dev] {
              cudaSetDevice(dev);
              try {
                run_block(g, blocks[i]);
                std::lock_guard<std::mutex> lock(g.mu);
                g.finished++;
                if (g.arrived > 0) {
                  g.aborted = true;
                  g.cv.notify_all();
                }
              } catch (...) {
                errors[i] = std::current_exception();  // run_block unwound its threads
                std::lock_guard<std::mutex> lock(g.mu);
                g.aborted = true;
                g.cv.notify_all();
              }
            });
          }
        }
      }
      for (auto& w : workers) w.join();
      // Prefer the root cause over "abandoned" reports of the other blocks.
      std::exception_ptr first;
      for (auto& e : errors) {
        if (!e) continue;
        try {
          std::rethrow_exception(e);
        } catch (const EmuError& err) {
          if (!first || std::string(err.what()).find("abandoned") == std::string::npos) {
            if (!first || std::string(err.what()).find("abandoned") == std::string::npos) first = e;
          }
        } catch (...) {
          first = e;
        }
      }
      bool hang = false;
      {
        std::lock_guard<std::mutex> lock(g.mu);
        hang = g.aborted && !first;
      }
      if (first) std::rethrow_exception(first);
      if (hang) throw EmuError(cudaErrorLaunchFailure, k + ": grid.sync that some blocks never reach");
    }
  }
}

}  // namespace pg_emu
