// Dense linear sum assignment (Jonker & Volgenant 1987, "A shortest augmenting path algorithm for
// dense and sparse linear assignment problems"): column reduction, reduction transfer, two
// passes of augmenting row reduction, then one Dijkstra-like shortest augmenting path per row
// still free. O(n³) worst case, O(n²) memory (the caller's cost matrix). Minimisation, float64.
#include <algorithm>
#include <limits>
#include <vector>

#include "core/error.h"
#include "kernels/emd.h"

namespace pg::kernels {

double lsap_dense(const double* cost, int64_t n, int64_t* row_to_col) {
  if (n <= 0) return 0.0;
  const double kBig = std::numeric_limits<double>::infinity();
  auto c = [&](int64_t i, int64_t j) { return cost[i * n + j]; };
  std::vector<int64_t> rowsol(n, -1), colsol(n, -1), free_rows(n), collist(n), pred(n);
  std::vector<int32_t> matches(n, 0);
  std::vector<double> v(n), d(n);

  // Column reduction (columns in reverse order, as in the original).
  for (int64_t j = n - 1; j >= 0; --j) {
    double mn = c(0, j);
    int64_t imin = 0;
    for (int64_t i = 1; i < n; ++i) {
      if (c(i, j) < mn) {
        mn = c(i, j);
        imin = i;
      }
    }
    v[j] = mn;
    if (++matches[imin] == 1) {
      rowsol[imin] = j;
      colsol[j] = imin;
    } else {
      colsol[j] = -1;
    }
  }
  // Reduction transfer.
  int64_t numfree = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (matches[i] == 0) {
      free_rows[numfree++] = i;
    } else if (matches[i] == 1) {
      const int64_t j1 = rowsol[i];
      double mn = kBig;
      const double* ci = cost + i * n;
      for (int64_t j = 0; j < n; ++j)
        if (j != j1) mn = std::min(mn, ci[j] - v[j]);
      if (mn < kBig) v[j1] -= mn;
    }
    // Rows matched by several columns keep the first one (colsol of the others is -1).
  }

  // Augmenting row reduction, two passes; bounded so floating-point stalls cannot cycle.
  for (int pass = 0; pass < 2 && numfree > 0; ++pass) {
    int64_t k = 0;
    const int64_t prvnumfree = numfree;
    numfree = 0;
    int64_t steps = 0;
    const int64_t max_steps = 8 * n + 16;
    while (k < prvnumfree) {
      if (++steps > max_steps) {  // hand the rest to the augmentation
        while (k < prvnumfree) free_rows[numfree++] = free_rows[k++];
        break;
      }
      const int64_t i = free_rows[k++];
      const double* ci = cost + i * n;
      double umin = ci[0] - v[0], usubmin = kBig;
      int64_t j1 = 0, j2 = n > 1 ? 1 : 0;
      for (int64_t j = 1; j < n; ++j) {
        const double h = ci[j] - v[j];
        if (h < usubmin) {
          if (h >= umin) {
            usubmin = h;
            j2 = j;
          } else {
            usubmin = umin;
            umin = h;
            j2 = j1;
            j1 = j;
          }
        }
      }
      int64_t i0 = colsol[j1];
      if (umin < usubmin) {
        v[j1] -= usubmin - umin;
      } else if (i0 >= 0) {
        j1 = j2;
        i0 = colsol[j2];
      }
      rowsol[i] = j1;
      colsol[j1] = i;
      if (i0 >= 0) {
        rowsol[i0] = -1;
        if (umin < usubmin) {
          free_rows[--k] = i0;
        } else {
          free_rows[numfree++] = i0;
        }
      }
    }
  }

  // Augmentation: shortest augmenting path from each free row.
  for (int64_t f = 0; f < numfree; ++f) {
    const int64_t freerow = free_rows[f];
    const double* cf = cost + freerow * n;
    for (int64_t j = 0; j < n; ++j) {
      d[j] = cf[j] - v[j];
      pred[j] = freerow;
      collist[j] = j;
    }
    int64_t low = 0, up = 0, last = 0, endofpath = -1;
    double mn = 0.0;
    bool found = false;
    do {
      if (up == low) {  // find the columns at the minimum distance among the unscanned
        last = low - 1;
        mn = d[collist[up++]];
        for (int64_t k = up; k < n; ++k) {
          const int64_t j = collist[k];
          const double h = d[j];
          if (h <= mn) {
            if (h < mn) {
              up = low;
              mn = h;
            }
            collist[k] = collist[up];
            collist[up++] = j;
          }
        }
        for (int64_t k = low; k < up; ++k) {
          if (colsol[collist[k]] < 0) {
            endofpath = collist[k];
            found = true;
            break;
          }
        }
      }
      if (!found) {  // scan a column at the minimum distance
        const int64_t j1 = collist[low++];
        const int64_t i = colsol[j1];
        const double* ci = cost + i * n;
        const double h = ci[j1] - v[j1] - mn;
        for (int64_t k = up; k < n; ++k) {
          const int64_t j = collist[k];
          const double v2 = ci[j] - v[j] - h;
          if (v2 < d[j]) {
            pred[j] = i;
            if (v2 == mn) {
              if (colsol[j] < 0) {
                endofpath = j;
                found = true;
                break;
              }
              collist[k] = collist[up];
              collist[up++] = j;
            }
            d[j] = v2;
          }
        }
      }
    } while (!found);
    for (int64_t k = 0; k <= last; ++k) {  // update the prices of the scanned columns
      const int64_t j1 = collist[k];
      v[j1] += d[j1] - mn;
    }
    int64_t i;
    do {  // augment along the path
      i = pred[endofpath];
      colsol[endofpath] = i;
      const int64_t j1 = endofpath;
      endofpath = rowsol[i];
      rowsol[i] = j1;
    } while (i != freerow);
  }

  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    PG_CHECK(rowsol[i] >= 0 && rowsol[i] < n, "lsap: internal error: row ", i, " left unassigned");
    row_to_col[i] = rowsol[i];
    total += c(i, rowsol[i]);
  }
  return total;
}

}  // namespace pg::kernels
