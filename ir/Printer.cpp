// Printer for the textual IR; the grammar is described in ir/Printer.h and
// read back by ir/Parser.cpp.
#include "ir/Printer.h"

#include "llvm/ADT/StringExtras.h"

#include <fmt/format.h>

namespace mnc {

void printQuoted(llvm::raw_ostream &os, llvm::StringRef text) {
  os << '"';
  for (unsigned char c : text) {
    if (c == '"' || c == '\\')
      os << '\\' << c;
    else if (llvm::isPrint(c))
      os << c;
    else
      os << '\\' << llvm::hexdigit(c >> 4) << llvm::hexdigit(c & 15);
  }
  os << '"';
}

namespace {

class Printer {
public:
  Printer(llvm::raw_ostream &os, const PrintOptions &opts)
      : os(os), opts(opts) {}

  void printFunction(const Function &f);
  void printBlobs();

private:
  void numberValues(const Function &f);
  std::string name(ValueId v) const;
  void printValues(llvm::ArrayRef<ValueId> values);
  void printOp(const Op &op, const Function &f);
  void printAttr(const Attr &attr);
  void printTensor(const Tensor &t);

  llvm::raw_ostream &os;
  const PrintOptions &opts;
  /// Printed name of each value of the current function, "" if undefined.
  std::vector<std::string> names;
  /// Tensors printed as `dense_blob<@blobN>`, N being the index here.
  std::vector<const Tensor *> blobs;
};

void Printer::numberValues(const Function &f) {
  names.assign(f.valueTypes.size(), "");
  auto assign = [&](ValueId v, std::string text) {
    if (v < names.size())
      names[v] = std::move(text);
  };
  for (size_t i = 0; i < f.args.size(); ++i)
    assign(f.args[i], fmt::format("%arg{}", i));
  unsigned next = 0;
  for (const Op &op : f.ops)
    for (ValueId r : op.results)
      assign(r, fmt::format("%{}", next++));
}

std::string Printer::name(ValueId v) const {
  // Unverified modules may use values nothing defines; print them in a form
  // the parser rejects rather than hide the problem.
  if (v >= names.size() || names[v].empty())
    return fmt::format("%undefined.{}", v);
  return names[v];
}

void Printer::printValues(llvm::ArrayRef<ValueId> values) {
  llvm::interleaveComma(values, os, [&](ValueId v) { os << name(v); });
}

void Printer::printFunction(const Function &f) {
  numberValues(f);
  os << "func @" << f.name << "(";
  for (size_t i = 0; i < f.args.size(); ++i) {
    ValueId v = f.args[i];
    os << (i ? ", " : "") << name(v) << ": "
       << (v < f.valueTypes.size() ? toString(f.type(v)) : "?");
    if (i < f.argNames.size() && !f.argNames[i].empty()) {
      os << ' ';
      printQuoted(os, f.argNames[i]);
    }
  }
  os << ") -> (";
  for (size_t i = 0; i < f.results.size(); ++i) {
    ValueId v = f.results[i];
    os << (i ? ", " : "")
       << (v < f.valueTypes.size() ? toString(f.type(v)) : "?");
    if (i < f.resultNames.size() && !f.resultNames[i].empty()) {
      os << ' ';
      printQuoted(os, f.resultNames[i]);
    }
  }
  os << ") {\n";
  for (const Op &op : f.ops)
    printOp(op, f);
  os << "  return";
  if (!f.results.empty())
    os << ' ';
  printValues(f.results);
  os << "\n}\n";
}

void Printer::printOp(const Op &op, const Function &f) {
  os << "  ";
  printValues(op.results);
  os << " = " << mnemonic(op.kind);
  if (!op.operands.empty())
    os << ' ';
  printValues(op.operands);
  if (!op.attrs.empty()) {
    os << " {";
    bool first = true;
    for (const auto &[key, value] : op.attrs) {
      os << (first ? "" : ", ") << key << '=';
      printAttr(value);
      first = false;
    }
    os << '}';
  }
  os << " : ";
  llvm::interleaveComma(op.results, os, [&](ValueId r) {
    os << (r < f.valueTypes.size() ? toString(f.type(r)) : "?");
  });
  os << '\n';
}

void Printer::printAttr(const Attr &attr) {
  switch (attrKind(attr)) {
  case AttrKind::Int:
    os << std::get<int64_t>(attr);
    return;
  case AttrKind::Float:
    os << formatFloat(std::get<float>(attr));
    return;
  case AttrKind::String:
    printQuoted(os, std::get<std::string>(attr));
    return;
  case AttrKind::Ints:
    os << fmt::format("[{}]",
                      fmt::join(std::get<std::vector<int64_t>>(attr), ","));
    return;
  case AttrKind::Floats:
    os << '[';
    llvm::interleave(
        std::get<std::vector<float>>(attr), os,
        [&](float v) { os << formatFloat(v); }, ",");
    os << ']';
    return;
  case AttrKind::Tensor:
    if (const auto &t = std::get<std::shared_ptr<const Tensor>>(attr))
      printTensor(*t);
    else
      os << "dense_invalid";
    return;
  }
}

void Printer::printTensor(const Tensor &t) {
  int64_t n = t.numElements();
  // The verifier rejects this; print it without reading past the bytes.
  if (t.bytes.size() != static_cast<size_t>(t.type.byteSize())) {
    os << "dense_invalid";
    return;
  }
  if (opts.elideConstantsLargerThan >= 0 && n > opts.elideConstantsLargerThan) {
    os << "dense_elided";
    return;
  }
  if (n > opts.inlineConstantsUpTo) {
    os << "dense_blob<@blob" << blobs.size() << '>';
    blobs.push_back(&t);
    return;
  }
  os << "dense<[";
  for (int64_t i = 0; i < n; ++i) {
    os << (i ? ", " : "");
    if (t.type.elem == ElemKind::F32)
      os << formatFloat(t.data<float>()[i]);
    else
      os << t.getAsInt(i);
  }
  os << "]>";
}

void Printer::printBlobs() {
  if (blobs.empty())
    return;
  os << "\nblobs {\n";
  for (size_t i = 0; i < blobs.size(); ++i)
    os << "  @blob" << i << " = \"" << llvm::toHex(blobs[i]->bytes) << "\"\n";
  os << "}\n";
}

} // namespace

void printModule(const Module &m, llvm::raw_ostream &os,
                 const PrintOptions &opts) {
  Printer printer(os, opts);
  for (size_t i = 0; i < m.functions.size(); ++i) {
    if (i)
      os << '\n';
    printer.printFunction(m.functions[i]);
  }
  printer.printBlobs();
}

std::string toText(const Module &m, const PrintOptions &opts) {
  std::string text;
  llvm::raw_string_ostream os(text);
  printModule(m, os, opts);
  return text;
}

} // namespace mnc
