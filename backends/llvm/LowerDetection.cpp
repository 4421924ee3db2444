// Lowering of the static-bound detection ops of ir/Ops.def: gather_nd,
// non_zero, top_k, non_max_suppression, concat_valid and fill_invalid.
// Counts known only at run time bound loops emitted here; top_k and
// non_max_suppression sort i32 candidate indices in their workspace with a
// heap sort, whose order is unique because equal keys are ordered by index.
#include "backends/HeaderWriter.h"
#include "backends/llvm/IRValue.h"
#include "backends/llvm/Lowering.h"
#include "ir/Math.h"

namespace mnc {
namespace {

using Body = llvm::function_ref<void(llvm::Value *)>;

/// `for (i = lo; i < hi; ++i) body(i)` with bounds known at run time.
void forRange(Lowering &l, llvm::Value *lo, llvm::Value *hi, Body body) {
  auto &b = l.b;
  llvm::Function *fn = b.GetInsertBlock()->getParent();
  auto *header = llvm::BasicBlock::Create(b.getContext(), "range", fn);
  auto *exit = llvm::BasicBlock::Create(b.getContext(), "range.end", fn);
  llvm::BasicBlock *pre = b.GetInsertBlock();
  b.CreateCondBr(b.CreateICmpSLT(lo, hi), header, exit);
  b.SetInsertPoint(header);
  llvm::PHINode *iv = b.CreatePHI(l.idxTy, 2);
  iv->addIncoming(lo, pre);
  body(iv);
  llvm::Value *next = b.CreateAdd(iv, l.idx(1));
  iv->addIncoming(next, b.GetInsertBlock());
  b.CreateCondBr(b.CreateICmpSLT(next, hi), header, exit);
  b.SetInsertPoint(exit);
}

/// `if (cond) body()`.
void ifThen(Lowering &l, llvm::Value *cond, llvm::function_ref<void()> body) {
  auto &b = l.b;
  llvm::Function *fn = b.GetInsertBlock()->getParent();
  auto *then = llvm::BasicBlock::Create(b.getContext(), "then", fn);
  auto *done = llvm::BasicBlock::Create(b.getContext(), "endif", fn);
  b.CreateCondBr(cond, then, done);
  b.SetInsertPoint(then);
  body();
  b.CreateBr(done);
  b.SetInsertPoint(done);
}

/// A mutable pointer-sized integer, kept in a stack slot.
struct Counter {
  Lowering &l;
  llvm::Value *slot;
  Counter(Lowering &l, llvm::Value *init) : l(l), slot(l.local(l.idxTy)) {
    l.b.CreateStore(init, slot);
  }
  llvm::Value *get() const { return l.b.CreateLoad(l.idxTy, slot); }
  void set(llvm::Value *v) const { l.b.CreateStore(v, slot); }
  void increment() const { set(l.b.CreateAdd(get(), l.idx(1))); }
};

/// Count operand `i` of `op` clamped to [0, capacity]; the capacity if the
/// op has no such operand.
llvm::Value *countOperand(Lowering &l, const Op &op, unsigned i,
                          int64_t capacity) {
  if (op.operands.size() <= i)
    return l.idx(capacity);
  auto &b = l.b;
  llvm::Value *n =
      b.CreateSExtOrTrunc(l.load(op.operands[i], l.idx(0)), l.idxTy);
  n = b.CreateSelect(b.CreateICmpSLT(n, l.idx(0)), l.idx(0), n);
  return b.CreateSelect(b.CreateICmpSGT(n, l.idx(capacity)), l.idx(capacity),
                        n);
}

void storeCount(Lowering &l, ValueId v, llvm::Value *n) {
  l.store(v, l.idx(0), l.b.CreateSExtOrTrunc(n, l.b.getInt32Ty()));
}

llvm::Value *zeroOf(Lowering &l, ElemKind kind) {
  return llvm::Constant::getNullValue(l.elemType(kind));
}

/// Element `i` of i32 array `base` as a pointer-sized index.
llvm::Value *loadIndex(Lowering &l, llvm::Value *base, llvm::Value *i) {
  return l.b.CreateSExtOrTrunc(l.loadAt(base, ElemKind::I32, i), l.idxTy);
}

using Before = llvm::function_ref<llvm::Value *(llvm::Value *, llvm::Value *)>;

/// Sorts the `n` i32 indices at `order` so that `before` (an i1 of two
/// indices) holds between neighbours: a heap sort whose one sift-down loop
/// serves both the heap's construction (steps t < n/2) and each extraction.
void heapSort(Lowering &l, llvm::Value *order, llvm::Value *n, Before before) {
  auto &b = l.b;
  llvm::Value *half = b.CreateLShr(n, 1);
  llvm::Value *steps = b.CreateSub(b.CreateAdd(half, n), l.idx(1));
  auto at = [&](llvm::Value *i) { return loadIndex(l, order, i); };
  auto put = [&](llvm::Value *i, llvm::Value *v) {
    l.storeAt(order, ElemKind::I32, i, b.CreateTrunc(v, b.getInt32Ty()));
  };
  forRange(l, l.idx(0), steps, [&](llvm::Value *t) {
    llvm::Value *building = b.CreateICmpSLT(t, half);
    llvm::Value *start = b.CreateSelect(
        building, b.CreateSub(b.CreateSub(half, l.idx(1)), t), l.idx(0));
    llvm::Value *end = b.CreateSelect(
        building, n,
        b.CreateSub(b.CreateSub(n, l.idx(1)), b.CreateSub(t, half)));
    ifThen(l, b.CreateNot(building), [&] {
      llvm::Value *first = at(l.idx(0));
      put(l.idx(0), at(end));
      put(end, first);
    });
    // Sift order[start] down within [0, end).
    llvm::Function *fn = b.GetInsertBlock()->getParent();
    llvm::LLVMContext &ctx = b.getContext();
    auto *header = llvm::BasicBlock::Create(ctx, "sift", fn);
    auto *body = llvm::BasicBlock::Create(ctx, "sift.child", fn);
    auto *swap = llvm::BasicBlock::Create(ctx, "sift.swap", fn);
    auto *exit = llvm::BasicBlock::Create(ctx, "sift.end", fn);
    llvm::BasicBlock *pre = b.GetInsertBlock();
    b.CreateBr(header);
    b.SetInsertPoint(header);
    llvm::PHINode *root = b.CreatePHI(l.idxTy, 2);
    root->addIncoming(start, pre);
    llvm::Value *left = b.CreateAdd(b.CreateShl(root, 1), l.idx(1));
    b.CreateCondBr(b.CreateICmpSLT(left, end), body, exit);
    b.SetInsertPoint(body);
    llvm::Value *right = b.CreateAdd(left, l.idx(1));
    llvm::Value *hasRight = b.CreateICmpSLT(right, end);
    llvm::Value *leftIdx = at(left);
    llvm::Value *rightIdx = at(b.CreateSelect(hasRight, right, left));
    llvm::Value *useRight = b.CreateAnd(hasRight, before(leftIdx, rightIdx));
    llvm::Value *child = b.CreateSelect(useRight, right, left);
    llvm::Value *childIdx = b.CreateSelect(useRight, rightIdx, leftIdx);
    llvm::Value *rootIdx = at(root);
    b.CreateCondBr(before(rootIdx, childIdx), swap, exit);
    b.SetInsertPoint(swap);
    put(root, childIdx);
    put(child, rootIdx);
    root->addIncoming(child, swap);
    b.CreateBr(header);
    b.SetInsertPoint(exit);
  });
}

/// i1: element a goes before element b of the same kind (values va, vb;
/// indices a, b): larger (or smaller) first, equal values by index.
llvm::Value *goesBefore(Lowering &l, ElemKind kind, llvm::Value *va,
                        llvm::Value *a, llvm::Value *vb, llvm::Value *b,
                        bool largest) {
  auto &ir = l.b;
  llvm::Value *first, *equal;
  if (kind == ElemKind::F32) {
    first = largest ? ir.CreateFCmpOGT(va, vb) : ir.CreateFCmpOLT(va, vb);
    equal = ir.CreateFCmpOEQ(va, vb);
  } else {
    first = largest ? ir.CreateICmpSGT(va, vb) : ir.CreateICmpSLT(va, vb);
    equal = ir.CreateICmpEQ(va, vb);
  }
  return ir.CreateOr(first, ir.CreateAnd(equal, ir.CreateICmpSLT(a, b)));
}

} // namespace

llvm::Error lowerGatherND(Lowering &l, const Op &op) {
  auto &b = l.b;
  ValueId x = op.operands[0], indices = op.operands[1], y = op.results[0];
  llvm::ArrayRef<int64_t> xs = l.f.type(x).shape, is = l.f.type(indices).shape;
  int64_t batchDims = op.getInt("batch_dims"), depth = is.back();
  int64_t batches = 1, perBatch = 1, slice = 1;
  for (int64_t d = 0; d < batchDims; ++d)
    batches *= xs[d];
  for (size_t d = batchDims; d + 1 < is.size(); ++d)
    perBatch *= is[d];
  for (size_t d = batchDims + depth; d < xs.size(); ++d)
    slice *= xs[d];
  int64_t batchElems = slice;
  for (int64_t d = 0; d < depth; ++d)
    batchElems *= xs[batchDims + d];
  llvm::Type *type = l.elemType(l.f.type(indices).elem);
  llvm::Value *bad = l.local(b.getInt1Ty());
  b.CreateStore(b.getFalse(), bad);
  l.loop(0, batches * perBatch, [&](llvm::Value *row) {
    llvm::Value *offset = l.idx(0);
    for (int64_t d = 0; d < depth; ++d) {
      int64_t extent = xs[batchDims + d];
      llvm::Value *k = l.load(
          indices, b.CreateAdd(b.CreateMul(row, l.idx(depth)), l.idx(d)));
      llvm::Value *out =
          b.CreateOr(b.CreateICmpSLT(k, llvm::ConstantInt::get(type, -extent)),
                     b.CreateICmpSGE(k, llvm::ConstantInt::get(type, extent)));
      b.CreateStore(b.CreateOr(b.CreateLoad(b.getInt1Ty(), bad), out), bad);
      k = b.CreateSExtOrTrunc(k, l.idxTy);
      k = b.CreateSelect(b.CreateICmpSLT(k, l.idx(0)),
                         b.CreateAdd(k, l.idx(extent)), k);
      // Out-of-range entries read element 0; the kernel then fails.
      k = b.CreateSelect(b.CreateLoad(b.getInt1Ty(), bad), l.idx(0), k);
      offset = b.CreateAdd(b.CreateMul(offset, l.idx(extent)), k);
    }
    llvm::Value *batch = b.CreateUDiv(row, l.idx(perBatch));
    llvm::Value *src = b.CreateAdd(b.CreateMul(batch, l.idx(batchElems)),
                                   b.CreateMul(offset, l.idx(slice)));
    llvm::Value *dst = b.CreateMul(row, l.idx(slice));
    l.loop(0, slice, [&](llvm::Value *i) {
      l.store(y, b.CreateAdd(dst, i), l.load(x, b.CreateAdd(src, i)));
    });
  });
  l.returnIf(b.CreateLoad(b.getInt1Ty(), bad), l.i32(RunIndexError));
  return llvm::Error::success();
}

llvm::Error lowerNonZero(Lowering &l, const Op &op) {
  auto &b = l.b;
  ValueId x = op.operands[0], y = op.results[0];
  const TensorType &xt = l.f.type(x);
  int64_t n = xt.numElements();
  auto strides = stridesOf(xt.shape);
  Counter found(l, l.idx(0));
  l.loop(0, n, [&](llvm::Value *i) {
    llvm::Value *v = l.load(x, i);
    llvm::Value *nonZero = xt.elem == ElemKind::F32
                               ? b.CreateFCmpUNE(v, l.f32(0))
                               : b.CreateICmpNE(v, zeroOf(l, xt.elem));
    ifThen(l, nonZero, [&] {
      llvm::Value *at = found.get();
      for (size_t d = 0; d < xt.rank(); ++d) {
        llvm::Value *coord = b.CreateURem(b.CreateUDiv(i, l.idx(strides[d])),
                                          l.idx(xt.shape[d]));
        l.store(y, b.CreateAdd(l.idx(d * n), at),
                b.CreateZExtOrTrunc(coord, b.getInt64Ty()));
      }
      found.increment();
    });
  });
  llvm::Value *count = found.get();
  for (size_t d = 0; d < xt.rank(); ++d)
    forRange(l, count, l.idx(n), [&](llvm::Value *j) {
      l.store(y, b.CreateAdd(l.idx(d * n), j), b.getInt64(0));
    });
  storeCount(l, op.results[1], count);
  return llvm::Error::success();
}

llvm::Error lowerTopK(Lowering &l, const Op &op) {
  auto &b = l.b;
  ValueId x = op.operands[0];
  ValueId values = op.results[0], indices = op.results[1];
  const TensorType &xt = l.f.type(x);
  int64_t axis = op.getInt("axis"), k = op.getInt("k");
  bool largest = op.getInt("largest");
  int64_t outer = 1, inner = 1, extent = xt.shape[axis];
  for (int64_t d = 0; d < axis; ++d)
    outer *= xt.shape[d];
  for (size_t d = axis + 1; d < xt.rank(); ++d)
    inner *= xt.shape[d];
  auto kernel = l.kernelOf(op);
  if (!kernel)
    return kernel.takeError();
  llvm::Value *order = l.workspace(op);
  llvm::Value *valid = countOperand(l, op, 1, extent);
  llvm::Value *taken =
      b.CreateSelect(b.CreateICmpSLT(valid, l.idx(k)), valid, l.idx(k));
  l.loop(0, outer, [&](llvm::Value *o) {
    l.loop(0, inner, [&](llvm::Value *i) {
      llvm::Value *base = b.CreateAdd(b.CreateMul(o, l.idx(extent * inner)), i);
      auto element = [&](llvm::Value *j) {
        return l.load(x, b.CreateAdd(base, b.CreateMul(j, l.idx(inner))));
      };
      forRange(l, l.idx(0), valid, [&](llvm::Value *j) {
        l.storeAt(order, ElemKind::I32, j, b.CreateTrunc(j, b.getInt32Ty()));
      });
      heapSort(l, order, valid, [&](llvm::Value *p, llvm::Value *q) {
        return goesBefore(l, xt.elem, element(p), p, element(q), q, largest);
      });
      llvm::Value *outBase = b.CreateAdd(b.CreateMul(o, l.idx(k * inner)), i);
      auto at = [&](llvm::Value *j) {
        return b.CreateAdd(outBase, b.CreateMul(j, l.idx(inner)));
      };
      forRange(l, l.idx(0), taken, [&](llvm::Value *j) {
        llvm::Value *src = loadIndex(l, order, j);
        l.store(values, at(j), element(src));
        l.store(indices, at(j), b.CreateSExt(src, b.getInt64Ty()));
      });
      forRange(l, taken, l.idx(k), [&](llvm::Value *j) {
        l.store(values, at(j), zeroOf(l, xt.elem));
        l.store(indices, at(j), b.getInt64(0));
      });
    });
  });
  storeCount(l, op.results[2], taken);
  return llvm::Error::success();
}

llvm::Error lowerNonMaxSuppression(Lowering &l, const Op &op) {
  auto &b = l.b;
  ValueId boxes = op.operands[0], scores = op.operands[1], y = op.results[0];
  int64_t batches = l.f.type(boxes).shape[0], n = l.f.type(boxes).shape[1];
  int64_t classes = l.f.type(scores).shape[1];
  int64_t capacity = l.f.type(y).shape[0];
  int64_t maxPerClass = op.getInt("max_output_boxes_per_class");
  bool centerPoint = op.getInt("center_point_box");
  auto kernel = l.kernelOf(op);
  if (!kernel)
    return kernel.takeError();
  llvm::Value *order = l.workspace(op);
  llvm::Value *valid = countOperand(l, op, 2, n);
  codegen::IRValueScope scope(b);
  llvm::Value *iouThreshold = l.f32(op.getFloat("iou_threshold"));
  llvm::Value *scoreThreshold = l.f32(op.getFloat("score_threshold"));
  Counter count(l, l.idx(0));
  l.loop(0, batches, [&](llvm::Value *bt) {
    l.loop(0, classes, [&](llvm::Value *cl) {
      llvm::Value *scoreBase = b.CreateMul(
          b.CreateAdd(b.CreateMul(bt, l.idx(classes)), cl), l.idx(n));
      auto score = [&](llvm::Value *i) {
        return l.load(scores, b.CreateAdd(scoreBase, i));
      };
      auto box = [&](llvm::Value *i, std::array<codegen::IRValue, 4> &out) {
        llvm::Value *at =
            b.CreateMul(b.CreateAdd(b.CreateMul(bt, l.idx(n)), i), l.idx(4));
        for (int c = 0; c < 4; ++c)
          out[c] = l.load(boxes, b.CreateAdd(at, l.idx(c)));
      };
      Counter candidates(l, l.idx(0));
      forRange(l, l.idx(0), valid, [&](llvm::Value *i) {
        ifThen(l, b.CreateFCmpOGT(score(i), scoreThreshold), [&] {
          l.storeAt(order, ElemKind::I32, candidates.get(),
                    b.CreateTrunc(i, b.getInt32Ty()));
          candidates.increment();
        });
      });
      heapSort(l, order, candidates.get(), [&](llvm::Value *p, llvm::Value *q) {
        return goesBefore(l, ElemKind::F32, score(p), p, score(q), q, true);
      });
      // The kept boxes of this class, coordinate c of the k-th at
      // kept[c][k], for loads the overlap loop can vectorize.
      llvm::Value *classStart = count.get();
      auto keptAt = [&](int c, llvm::Value *k) {
        return b.CreateInBoundsGEP(b.getFloatTy(), order,
                                   b.CreateAdd(l.idx((c + 1) * n), k));
      };
      forRange(l, l.idx(0), candidates.get(), [&](llvm::Value *t) {
        llvm::Value *kept = b.CreateSub(count.get(), classStart);
        ifThen(l, b.CreateICmpSLT(kept, l.idx(maxPerClass)), [&] {
          llvm::Value *i = loadIndex(l, order, t);
          std::array<codegen::IRValue, 4> bi{nullptr, nullptr, nullptr,
                                             nullptr};
          box(i, bi);
          llvm::Value *suppressed = l.local(b.getInt8Ty());
          b.CreateStore(b.getInt8(0), suppressed);
          forRange(l, l.idx(0), kept, [&](llvm::Value *k) {
            std::array<codegen::IRValue, 4> bj{nullptr, nullptr, nullptr,
                                               nullptr};
            for (int c = 0; c < 4; ++c)
              bj[c] = b.CreateLoad(b.getFloatTy(), keptAt(c, k));
            codegen::IRValue iou =
                math::boxOverlap(bi.data(), bj.data(), centerPoint);
            llvm::Value *over = b.CreateZExt(
                b.CreateFCmpOGT(iou.v, iouThreshold), b.getInt8Ty());
            b.CreateStore(
                b.CreateOr(b.CreateLoad(b.getInt8Ty(), suppressed), over),
                suppressed);
          });
          llvm::Value *keep = b.CreateICmpEQ(
              b.CreateLoad(b.getInt8Ty(), suppressed), b.getInt8(0));
          ifThen(l, keep, [&] {
            for (int c = 0; c < 4; ++c)
              b.CreateStore(bi[c].v, keptAt(c, kept));
            llvm::Value *row = b.CreateMul(count.get(), l.idx(3));
            l.store(y, row, b.CreateSExtOrTrunc(bt, b.getInt64Ty()));
            l.store(y, b.CreateAdd(row, l.idx(1)),
                    b.CreateSExtOrTrunc(cl, b.getInt64Ty()));
            l.store(y, b.CreateAdd(row, l.idx(2)),
                    b.CreateSExtOrTrunc(i, b.getInt64Ty()));
            count.increment();
          });
        });
      });
    });
  });
  forRange(l, b.CreateMul(count.get(), l.idx(3)), l.idx(capacity * 3),
           [&](llvm::Value *j) { l.store(y, j, b.getInt64(0)); });
  storeCount(l, op.results[1], count.get());
  return llvm::Error::success();
}

// One copy loop over a table of the operands' pointers and counts: a
// chain of per-operand loops, each starting where the previous one ended,
// makes LLVM's loop strength reduction quadratic in the operand count.
llvm::Error lowerConcatValid(Lowering &l, const Op &op) {
  auto &b = l.b;
  size_t n = op.operands.size() / 2;
  ValueId y = op.results[0];
  const TensorType &yt = l.f.type(y);
  int64_t row = yt.numElements() / yt.shape[0];
  auto *ptrs = llvm::ArrayType::get(b.getPtrTy(), n);
  auto *sizes = llvm::ArrayType::get(l.idxTy, n);
  llvm::Value *ptrTable = l.local(ptrs), *sizeTable = l.local(sizes);
  for (size_t i = 0; i < n; ++i) {
    b.CreateStore(l.ptr(op.operands[i]),
                  b.CreateConstInBoundsGEP2_64(ptrs, ptrTable, 0, i));
    llvm::Value *rows =
        countOperand(l, op, n + i, l.f.type(op.operands[i]).shape[0]);
    b.CreateStore(b.CreateMul(rows, l.idx(row)),
                  b.CreateConstInBoundsGEP2_64(sizes, sizeTable, 0, i));
  }
  Counter total(l, l.idx(0));
  l.loop(0, n, [&](llvm::Value *i) {
    llvm::Value *src = b.CreateLoad(
        b.getPtrTy(), b.CreateInBoundsGEP(ptrs, ptrTable, {l.idx(0), i}));
    llvm::Value *size = b.CreateLoad(
        l.idxTy, b.CreateInBoundsGEP(sizes, sizeTable, {l.idx(0), i}));
    llvm::Value *dst = total.get();
    forRange(l, l.idx(0), size, [&](llvm::Value *j) {
      l.store(y, b.CreateAdd(dst, j), l.loadAt(src, yt.elem, j));
    });
    total.set(b.CreateAdd(dst, size));
  });
  forRange(l, total.get(), l.idx(yt.numElements()),
           [&](llvm::Value *j) { l.store(y, j, zeroOf(l, yt.elem)); });
  storeCount(l, op.results[1], b.CreateUDiv(total.get(), l.idx(row)));
  return llvm::Error::success();
}

llvm::Error lowerFillInvalid(Lowering &l, const Op &op) {
  auto &b = l.b;
  ValueId x = op.operands[0], y = op.results[0];
  const TensorType &xt = l.f.type(x);
  int64_t axis = op.getInt("axis"), outer = 1, inner = 1;
  int64_t extent = xt.shape[axis];
  for (int64_t d = 0; d < axis; ++d)
    outer *= xt.shape[d];
  for (size_t d = axis + 1; d < xt.rank(); ++d)
    inner *= xt.shape[d];
  llvm::Value *valid = countOperand(l, op, 1, extent);
  double value = op.getFloat("value");
  llvm::Value *fill =
      xt.elem == ElemKind::F32
          ? l.f32(value)
          : llvm::ConstantInt::get(l.elemType(xt.elem),
                                   static_cast<int64_t>(value), true);
  l.loop(0, outer, [&](llvm::Value *o) {
    l.loop(0, extent, [&](llvm::Value *j) {
      llvm::Value *keep = b.CreateICmpSLT(j, valid);
      llvm::Value *base = l.linear({o, j}, {extent * inner, inner});
      l.loop(0, inner, [&](llvm::Value *i) {
        llvm::Value *at = b.CreateAdd(base, i);
        l.store(y, at, b.CreateSelect(keep, l.load(x, at), fill));
      });
    });
  });
  return llvm::Error::success();
}

} // namespace mnc
