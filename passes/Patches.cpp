// The patch rewrite of passes/Patches.h. Regions are computed backwards
// from the output rectangle (each conv widens its input's by its halo,
// clipped to the image, whose border becomes the patch's own padding),
// then the ops are cloned forwards on slices.
#include "passes/Patches.h"

#include "ir/Errors.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace mnc {
namespace {

using Ints = std::vector<int64_t>;

/// Rows [r0, r1) and columns [c0, c1) of an NCHW image.
struct Region {
  int64_t r0, r1, c0, c1;

  int64_t rows() const { return r1 - r0; }
  int64_t cols() const { return c1 - c0; }
  bool operator==(const Region &o) const {
    return r0 == o.r0 && r1 == o.r1 && c0 == o.c0 && c1 == o.c1;
  }
  Region hull(const Region &o) const {
    return {std::min(r0, o.r0), std::max(r1, o.r1), std::min(c0, o.c0),
            std::max(c1, o.c1)};
  }
};

Region wholeImage(const TensorType &t) {
  return {0, t.shape[2], 0, t.shape[3]};
}

bool isConstant(const Function &f, llvm::ArrayRef<int> defs, ValueId v) {
  return defs[v] >= 0 && f.ops[defs[v]].kind == OpKind::Constant;
}

bool isImage(const TensorType &t) {
  return t.rank() == 4 && t.shape[0] == 1 &&
         (!t.quant || t.quant->isPerTensor() || *t.quant->axis == 1);
}

/// Op kinds computed element for element (or per channel): their output
/// region is their operands' region.
bool isPointwise(OpKind kind) {
  return opInfo(kind).elementwise || kind == OpKind::Quantize ||
         kind == OpKind::Dequantize || kind == OpKind::Requantize;
}

/// Whether a constant broadcasts against an image without spatial extent
/// (a scalar, or one value per channel).
bool isSpatiallyUniform(const TensorType &t) {
  size_t r = t.rank();
  return r <= 4 && (r < 1 || t.shape[r - 1] == 1) &&
         (r < 2 || t.shape[r - 2] == 1);
}

/// The input window a conv reads for output region `out`, along one axis:
/// [begin, end) of the input, unclipped (negative or past the end where
/// the conv pads).
struct Window {
  int64_t begin, end;
};

Window convWindow(const Op &conv, const Function &f, int axis, int64_t o0,
                  int64_t o1) {
  int64_t stride = conv.getInts("strides")[axis];
  int64_t dilation = conv.getInts("dilations")[axis];
  int64_t pad = conv.getInts("pads")[axis];
  int64_t k = f.type(conv.operands[1]).shape[2 + axis];
  return {o0 * stride - pad, (o1 - 1) * stride - pad + (k - 1) * dilation + 1};
}

/// The input window a pad op reads for output region `out`, along one
/// axis of H and W.
Window padWindow(const Op &pad, int axis, int64_t o0, int64_t o1) {
  int64_t begin = pad.getInts("pads")[2 + axis];
  return {o0 - begin, o1 - begin};
}

/// What the patch of one op reads of its operand `v` at operand position
/// `i`, clipped to the image, and for the input of a conv or pad the
/// `pads` the patch op needs where the window leaves the image.
struct Read {
  Region region;
  Ints pads; ///< Conv: [top, left, bottom, right]; pad: all dims'.
};

Read readOf(const Function &f, const Op &op, size_t i, const Region &out) {
  bool conv = op.kind == OpKind::Conv2d;
  if ((!conv && op.kind != OpKind::Pad) || i != 0)
    return {out, {}};
  const TensorType &x = f.type(op.operands[0]);
  Window rows = conv ? convWindow(op, f, 0, out.r0, out.r1)
                     : padWindow(op, 0, out.r0, out.r1);
  Window cols = conv ? convWindow(op, f, 1, out.c0, out.c1)
                     : padWindow(op, 1, out.c0, out.c1);
  int64_t h = x.shape[2], w = x.shape[3];
  Region clipped{std::max<int64_t>(rows.begin, 0), std::min(rows.end, h),
                 std::max<int64_t>(cols.begin, 0), std::min(cols.end, w)};
  int64_t top = std::max<int64_t>(-rows.begin, 0),
          left = std::max<int64_t>(-cols.begin, 0),
          bottom = std::max<int64_t>(rows.end - h, 0),
          right = std::max<int64_t>(cols.end - w, 0);
  if (conv)
    return {clipped, {top, left, bottom, right}};
  return {clipped, {0, 0, top, left, 0, 0, bottom, right}};
}

/// A pad of H and W only, with a constant, that tiles like a conv.
bool isSpatialPad(const Op &op) {
  auto pads = op.getInts("pads");
  return op.getString("mode") == "constant" && pads.size() == 8 &&
         pads[0] == 0 && pads[1] == 0 && pads[4] == 0 && pads[5] == 0 &&
         llvm::all_of(pads, [](int64_t p) { return p >= 0; });
}

/// Rows `part` of `parts` of [0, n), as even as can be.
std::pair<int64_t, int64_t> share(int64_t n, int64_t parts, int64_t part) {
  return {n * part / parts, n * (part + 1) / parts};
}

/// Builds the patches of one segment at the end of `f`.
class PatchBuilder {
public:
  PatchBuilder(Function &f, llvm::ArrayRef<Op> body, const PatchSchedule &s,
               int64_t label)
      : f(f), b(f), body(body), s(s), label(label), defs(f.definingOps()) {}

  /// The segment output, assembled from its patches.
  llvm::Expected<ValueId> build() {
    // A copy: creating ops grows the type table.
    const TensorType y = f.type(s.to.value);
    std::vector<ValueId> bands;
    for (int64_t r = 0; r < s.rows; ++r) {
      std::vector<ValueId> cells;
      for (int64_t c = 0; c < s.cols; ++c) {
        auto [r0, r1] = share(y.shape[2], s.rows, r);
        auto [c0, c1] = share(y.shape[3], s.cols, c);
        auto cell = patch({r0, r1, c0, c1}, r * s.cols + c);
        if (!cell)
          return cell.takeError();
        cells.push_back(*cell);
      }
      auto band = concat(cells, 3);
      if (!band)
        return band.takeError();
      bands.push_back(*band);
    }
    return concat(bands, 2);
  }

private:
  /// The regions each value of the segment is computed on for output
  /// rectangle `out`: what all its users read.
  std::vector<std::optional<Region>> regionsFor(const Region &out) const {
    std::vector<std::optional<Region>> region(f.valueTypes.size());
    region[s.to.value] = out;
    for (const Op &op : llvm::reverse(body)) {
      if (op.kind == OpKind::Constant || !region[op.results[0]])
        continue;
      for (auto [i, v] : llvm::enumerate(op.operands)) {
        if (isConstant(f, defs, v))
          continue;
        Region read = readOf(f, op, i, *region[op.results[0]]).region;
        region[v] = region[v] ? region[v]->hull(read) : read;
      }
    }
    return region;
  }

  llvm::Expected<ValueId> patch(const Region &out, int64_t index) {
    auto region = regionsFor(out);
    llvm::DenseMap<ValueId, ValueId> local;
    Attrs tag = {{"patch", Ints{label, index, s.rows, s.cols}}};
    auto input = slice(s.from.value, wholeImage(f.type(s.from.value)),
                       *region[s.from.value], tag);
    if (!input)
      return input.takeError();
    local[s.from.value] = *input;
    for (const Op &op : body) {
      if (op.kind == OpKind::Constant)
        continue;
      const Region &at = *region[op.results[0]];
      Op copy = op;
      for (const AttrInfo &attr : scheduleAttrs())
        copy.attrs.erase(attr.name.str());
      copy.attrs["patch"] = tag.at("patch");
      for (auto [i, v] : llvm::enumerate(copy.operands)) {
        if (isConstant(f, defs, v))
          continue;
        Read read = readOf(f, op, i, at);
        auto operand = slice(local.at(v), *region[v], read.region, tag);
        if (!operand)
          return operand.takeError();
        v = *operand;
        if (!read.pads.empty())
          copy.attrs["pads"] = read.pads;
      }
      TensorType type = f.type(op.results[0]);
      type.shape[2] = at.rows();
      type.shape[3] = at.cols();
      auto result = b.create(copy.kind, copy.operands, copy.attrs, type);
      if (!result)
        return llvm::make_error<InternalError>(
            fmt::format("patch {} of a {}x{} schedule: {}", index, s.rows,
                        s.cols, llvm::toString(result.takeError())));
      local[op.results[0]] = *result;
    }
    return local.at(s.to.value);
  }

  /// `v`, computed on region `has`, cut to region `wants`.
  llvm::Expected<ValueId> slice(ValueId v, const Region &has,
                                const Region &wants, const Attrs &tag) {
    if (has == wants)
      return v;
    const TensorType &t = f.type(v);
    Attrs attrs = tag;
    attrs["starts"] = Ints{0, 0, wants.r0 - has.r0, wants.c0 - has.c0};
    attrs["ends"] =
        Ints{t.shape[0], t.shape[1], wants.r1 - has.r0, wants.c1 - has.c0};
    attrs["steps"] = Ints{1, 1, 1, 1};
    return b.create(OpKind::Slice, {v}, std::move(attrs));
  }

  llvm::Expected<ValueId> concat(llvm::ArrayRef<ValueId> parts, int64_t axis) {
    if (parts.size() == 1)
      return parts.front();
    return b.create(OpKind::Concat, parts, {{"axis", axis}});
  }

  Function &f;
  Builder b;
  llvm::ArrayRef<Op> body;
  const PatchSchedule &s;
  int64_t label;
  std::vector<int> defs;
};

/// Replaces the ops of schedule `s` by its patches.
llvm::Error rewrite(Function &f, const PatchSchedule &s, int64_t label) {
  auto begin = f.ops.begin() + (s.from.after + 1);
  auto end = f.ops.begin() + (s.to.after + 1);
  std::vector<Op> body(begin, end), tail(end, f.ops.end());
  f.ops.erase(begin, f.ops.end());
  for (const Op &op : body)
    if (op.kind == OpKind::Constant)
      f.ops.push_back(op);
  auto output = PatchBuilder(f, body, s, label).build();
  if (!output)
    return output.takeError();
  for (Op &op : tail) {
    std::replace(op.operands.begin(), op.operands.end(), s.to.value, *output);
    f.ops.push_back(std::move(op));
  }
  std::replace(f.results.begin(), f.results.end(), s.to.value, *output);
  return llvm::Error::success();
}

} // namespace

std::vector<Cut> findCuts(const Function &f) {
  std::vector<int> defs = f.definingOps();
  int n = static_cast<int>(f.ops.size());
  std::vector<int> lastUse(f.valueTypes.size(), -1);
  for (int i = 0; i < n; ++i)
    for (ValueId v : f.ops[i].operands)
      lastUse[v] = i;
  for (ValueId v : f.results)
    lastUse[v] = n;
  std::vector<std::vector<ValueId>> dying(n + 1);
  llvm::SmallVector<ValueId, 8> live;
  auto born = [&](ValueId v) {
    if (lastUse[v] >= 0 && !isConstant(f, defs, v))
      live.push_back(v);
  };
  for (ValueId v : f.args)
    born(v);
  std::vector<Cut> cuts;
  for (int i = -1; i < n; ++i) {
    if (i >= 0) {
      for (ValueId r : f.ops[i].results)
        born(r);
      llvm::erase_if(live, [&](ValueId v) { return lastUse[v] == i; });
    }
    bool afterConstant = i >= 0 && f.ops[i].kind == OpKind::Constant;
    if (live.size() == 1 && !afterConstant && isImage(f.type(live.front())))
      cuts.push_back({i, live.front()});
  }
  // Of a chain of cuts, keep those where the tensor is smallest (and the
  // ends): a segment is worth patching from one narrow point to the next.
  auto bytes = [&](size_t k) { return f.type(cuts[k].value).byteSize(); };
  std::vector<Cut> narrow;
  for (size_t k = 0; k < cuts.size(); ++k)
    if (k == 0 || k + 1 == cuts.size() ||
        (bytes(k) <= bytes(k - 1) && bytes(k) <= bytes(k + 1)))
      narrow.push_back(cuts[k]);
  return narrow;
}

bool isTileable(const Function &f, const Cut &from, const Cut &to) {
  std::vector<int> defs = f.definingOps();
  auto inside = [&](ValueId v) {
    return v == from.value || (defs[v] > from.after && defs[v] <= to.after);
  };
  bool computes = false;
  for (int i = from.after + 1; i <= to.after; ++i) {
    const Op &op = f.ops[i];
    if (op.kind == OpKind::Constant)
      continue;
    computes = true;
    bool windowed = op.kind == OpKind::Conv2d ||
                    (op.kind == OpKind::Pad && isSpatialPad(op));
    if ((!windowed && !isPointwise(op.kind)) || op.results.size() != 1 ||
        !isImage(f.type(op.results[0])))
      return false;
    const TensorType &y = f.type(op.results[0]);
    for (auto [k, v] : llvm::enumerate(op.operands)) {
      bool weights = op.kind == OpKind::Conv2d && k > 0;
      if (isConstant(f, defs, v)) {
        if (!weights && !isSpatiallyUniform(f.type(v)))
          return false;
        continue;
      }
      if (weights || !inside(v) || !isImage(f.type(v)))
        return false;
      if (!windowed &&
          llvm::ArrayRef(f.type(v).shape) != llvm::ArrayRef(y.shape))
        return false;
    }
  }
  return computes;
}

llvm::Error runInPatches(Function &f, llvm::ArrayRef<PatchSchedule> schedules) {
  for (int64_t k = static_cast<int64_t>(schedules.size()) - 1; k >= 0; --k)
    if (auto err = rewrite(f, schedules[k], k))
      return err;
  return llvm::Error::success();
}

} // namespace mnc
