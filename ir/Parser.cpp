// Hand-written lexer and recursive-descent parser for the textual IR (the
// grammar is in ir/Printer.h). Parse routines return true on error after
// recording the first message, the LLParser idiom, and parseModule turns
// that message into an llvm::Error.
#include "ir/Parser.h"

#include "ir/Lexer.h"
#include "ir/Verifier.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

namespace mnc {
namespace {

/// A tensor attribute as written; it becomes a Tensor once the op's result
/// type is known.
struct TensorLiteral {
  std::string attr;
  Token at;
  llvm::SmallVector<Token, 16> elements; ///< dense<[...]>
  std::string blob;                      ///< dense_blob<@name>, without '@'
};

/// A tensor waiting for the bytes of a blob defined later in the module.
struct BlobUse {
  std::shared_ptr<Tensor> tensor;
  std::string blob;
  Token at;
};

class Parser {
public:
  Parser(llvm::StringRef text, llvm::StringRef bufferName)
      : text(text), bufferName(bufferName), lexer(text) {
    tok = lexer.next();
  }

  llvm::Expected<Module> run();

private:
  // Diagnostics.
  bool error(Token at, const llvm::Twine &message);
  bool errorHere(const llvm::Twine &message) { return error(tok, message); }
  std::string describe(Token t) const;
  bool expect(Tok kind, llvm::StringRef what);

  void consume() { tok = lexer.next(); }
  bool consumeIf(Tok kind) {
    if (tok.kind != kind)
      return false;
    consume();
    return true;
  }
  bool isKeyword(llvm::StringRef word) const {
    return tok.kind == Tok::Ident && tok.text == word;
  }

  // Literals.
  bool parseInt(int64_t &value);
  bool parseFloat(float &value);
  bool parseString(std::string &value);
  bool unescape(Token t, std::string &value);
  bool parseType(TensorType &type);
  bool parseQuant(QuantParams &quant);

  // Structure.
  bool parseFunction();
  bool parseSignature(Function &f,
                      llvm::SmallVectorImpl<TensorType> &resultTypes);
  bool parseOp(Function &f);
  bool parseReturn(Function &f, llvm::ArrayRef<TensorType> resultTypes);
  bool defineValue(Token name, ValueId v);
  bool parseUse(ValueId &v);
  bool parseAttrs(OpKind kind, Attrs &attrs,
                  std::vector<TensorLiteral> &tensors);
  bool parseAttrValue(OpKind kind, llvm::StringRef name, Attr &value,
                      std::vector<TensorLiteral> &tensors);
  bool parseList(std::optional<AttrKind> schemaKind, Attr &value);
  bool parseTensorLiteral(TensorLiteral &literal);
  bool buildTensor(const TensorLiteral &literal, const TensorType &type,
                   std::shared_ptr<const Tensor> &result);
  bool parseBlobs();
  bool resolveBlobs();
  /// Runs verifyOp on every op, once blobs have filled in their constants.
  bool verifyOps();

  llvm::StringRef text;
  llvm::StringRef bufferName;
  Lexer lexer;
  Token tok;
  std::string errorMessage;

  Module module;
  llvm::StringMap<ValueId> values; ///< Names of the current function.
  std::vector<BlobUse> blobUses;
  llvm::StringMap<std::pair<std::vector<uint8_t>, Token>> blobs;
  /// The first token of each op, by function and op index.
  std::vector<std::vector<Token>> opLocations;
};

bool Parser::error(Token at, const llvm::Twine &message) {
  if (!errorMessage.empty())
    return true;
  size_t offset = at.text.data() - text.data();
  llvm::StringRef before = text.take_front(offset);
  size_t line = before.count('\n') + 1;
  size_t lineStart = before.rfind('\n');
  size_t column =
      offset - (lineStart == llvm::StringRef::npos ? 0 : lineStart + 1) + 1;
  errorMessage = fmt::format("{}:{}:{}: error: {}", bufferName.str(), line,
                             column, message.str());
  return true;
}

std::string Parser::describe(Token t) const {
  if (t.kind == Tok::Eof)
    return "end of input";
  if (t.kind == Tok::Error && t.text.starts_with("\""))
    return "unterminated string";
  return fmt::format("'{}'", t.text.take_front(40).str());
}

bool Parser::expect(Tok kind, llvm::StringRef what) {
  if (tok.kind == Tok::Error)
    return errorHere(tok.text.starts_with("\"")
                         ? "unterminated string"
                         : fmt::format("invalid token {}", describe(tok)));
  if (!consumeIf(kind))
    return errorHere(
        fmt::format("expected {}, got {}", what.str(), describe(tok)));
  return false;
}

bool Parser::parseInt(int64_t &value) {
  Token t = tok;
  if (t.kind != Tok::Int)
    return errorHere(fmt::format("expected integer, got {}", describe(t)));
  consume();
  if (t.text.getAsInteger(10, value))
    return error(t, fmt::format("integer {} out of range", t.text.str()));
  return false;
}

bool parseFloatText(llvm::StringRef text, float &value) {
  if (text == "inf" || text == "-inf") {
    value = text[0] == '-' ? -INFINITY : INFINITY;
    return true;
  }
  if (text == "nan") {
    value = NAN;
    return true;
  }
  // strtof rounds the decimal straight to float; going through double could
  // round twice and break the shortest round-trip form of formatFloat.
  std::string copy = text.str();
  char *end = nullptr;
  value = std::strtof(copy.c_str(), &end);
  // Only the spelled-out "inf" means infinity; 1e99 is a typo.
  return end == copy.c_str() + copy.size() && !std::isinf(value);
}

bool isNumber(Token t) {
  return t.kind == Tok::Int || t.kind == Tok::Float ||
         (t.kind == Tok::Ident && (t.text == "inf" || t.text == "nan"));
}

bool Parser::parseFloat(float &value) {
  Token t = tok;
  if (!isNumber(t))
    return errorHere(fmt::format("expected number, got {}", describe(t)));
  consume();
  if (!parseFloatText(t.text, value))
    return error(t,
                 fmt::format("number {} out of range for f32", t.text.str()));
  return false;
}

bool Parser::unescape(Token t, std::string &value) {
  llvm::StringRef body = t.text.drop_front().drop_back();
  value.clear();
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\') {
      value += body[i];
      continue;
    }
    if (i + 1 < body.size() && (body[i + 1] == '\\' || body[i + 1] == '"')) {
      value += body[++i];
      continue;
    }
    unsigned hi, lo;
    if (i + 2 >= body.size() ||
        (hi = llvm::hexDigitValue(body[i + 1])) == ~0u ||
        (lo = llvm::hexDigitValue(body[i + 2])) == ~0u)
      return error(t, "invalid escape in string; use \\\\, \\\" or \\XX hex");
    value += static_cast<char>(hi << 4 | lo);
    i += 2;
  }
  return false;
}

bool Parser::parseString(std::string &value) {
  Token t = tok;
  if (t.kind != Tok::String)
    return errorHere(fmt::format("expected string, got {}", describe(t)));
  consume();
  return unescape(t, value);
}

bool Parser::parseQuant(QuantParams &quant) {
  if (isKeyword("axis")) {
    consume();
    int64_t axis;
    if (expect(Tok::Equal, "'='") || parseInt(axis) ||
        expect(Tok::Colon, "':'"))
      return true;
    quant.axis = axis;
  }
  do {
    float scale;
    if (parseFloat(scale) || expect(Tok::Colon, "':'"))
      return true;
    Token zeroTok = tok;
    int64_t zero;
    if (parseInt(zero))
      return true;
    if (zero < INT32_MIN || zero > INT32_MAX)
      return error(zeroTok, "zero point out of range");
    quant.scales.push_back(scale);
    quant.zeroPoints.push_back(static_cast<int32_t>(zero));
  } while (consumeIf(Tok::Comma));
  return expect(Tok::Greater, "'>'");
}

bool Parser::parseType(TensorType &type) {
  Token t = tok;
  if (t.kind != Tok::Ident)
    return errorHere(fmt::format("expected type, got {}", describe(t)));
  auto elem = parseElemName(t.text);
  if (!elem)
    return errorHere(fmt::format("unknown element type {}", describe(t)));
  consume();
  type = TensorType(*elem, {});
  if (consumeIf(Tok::Less)) {
    type.quant.emplace();
    if (parseQuant(*type.quant))
      return true;
  }
  if (expect(Tok::LSquare, "'['"))
    return true;
  // The element count is capped as for ONNX models, so a few lines of IR
  // cannot ask the interpreter or a pass for terabytes.
  int64_t count = 1;
  if (tok.kind != Tok::RSquare) {
    do {
      Token dimTok = tok;
      int64_t dim;
      if (parseInt(dim))
        return true;
      if (dim < 0)
        return error(dimTok, "dimension out of range");
      if (dim > 0 && count > maxTensorElements / dim)
        return error(dimTok, fmt::format("shape has more than {} elements",
                                         maxTensorElements));
      count *= dim;
      type.shape.push_back(dim);
    } while (consumeIf(Tok::Comma));
  }
  return expect(Tok::RSquare, "']'");
}

bool Parser::defineValue(Token name, ValueId v) {
  if (!values.try_emplace(name.text, v).second)
    return error(name, fmt::format("redefinition of '{}'", name.text.str()));
  return false;
}

bool Parser::parseUse(ValueId &v) {
  Token t = tok;
  if (expect(Tok::ValueName, "value"))
    return true;
  auto it = values.find(t.text);
  if (it == values.end())
    return error(t, fmt::format("use of undefined value '{}'", t.text.str()));
  v = it->second;
  return false;
}

bool Parser::parseList(std::optional<AttrKind> schemaKind, Attr &value) {
  if (expect(Tok::LSquare, "'['"))
    return true;
  llvm::SmallVector<Token, 8> items;
  if (tok.kind != Tok::RSquare) {
    do {
      if (!isNumber(tok))
        return errorHere(fmt::format("expected number, got {}", describe(tok)));
      items.push_back(tok);
      consume();
    } while (consumeIf(Tok::Comma));
  }
  if (expect(Tok::RSquare, "']'"))
    return true;
  // An empty list has no spelling of its own: the op's schema says which.
  bool floats = schemaKind == AttrKind::Floats ||
                llvm::any_of(items, [](Token t) { return t.kind != Tok::Int; });
  if (floats) {
    std::vector<float> list(items.size());
    for (size_t i = 0; i < items.size(); ++i)
      if (!parseFloatText(items[i].text, list[i]))
        return error(items[i], "number out of range for f32");
    value = std::move(list);
    return false;
  }
  std::vector<int64_t> list(items.size());
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].text.getAsInteger(10, list[i]))
      return error(items[i], "integer out of range");
  value = std::move(list);
  return false;
}

bool Parser::parseTensorLiteral(TensorLiteral &literal) {
  literal.at = tok;
  if (isKeyword("dense_elided"))
    return errorHere("constant was elided when printed (--elide-constants); "
                     "its values cannot be read back");
  if (isKeyword("dense_blob")) {
    consume();
    if (expect(Tok::Less, "'<'"))
      return true;
    Token name = tok;
    if (expect(Tok::AtName, "blob name"))
      return true;
    literal.blob = name.text.drop_front().str();
    return expect(Tok::Greater, "'>'");
  }
  consume(); // dense
  if (expect(Tok::Less, "'<'") || expect(Tok::LSquare, "'['"))
    return true;
  if (tok.kind != Tok::RSquare) {
    do {
      if (!isNumber(tok))
        return errorHere(fmt::format("expected number, got {}", describe(tok)));
      literal.elements.push_back(tok);
      consume();
    } while (consumeIf(Tok::Comma));
  }
  return expect(Tok::RSquare, "']'") || expect(Tok::Greater, "'>'");
}

bool Parser::parseAttrValue(OpKind kind, llvm::StringRef name, Attr &value,
                            std::vector<TensorLiteral> &tensors) {
  std::optional<AttrKind> schemaKind = attrKindOf(kind, name);
  if (tok.kind == Tok::Int && schemaKind != AttrKind::Float) {
    int64_t v;
    if (parseInt(v))
      return true;
    value = v;
    return false;
  }
  if (isNumber(tok)) {
    float v;
    if (parseFloat(v))
      return true;
    value = v;
    return false;
  }
  if (tok.kind == Tok::String) {
    std::string v;
    if (parseString(v))
      return true;
    value = std::move(v);
    return false;
  }
  if (tok.kind == Tok::LSquare)
    return parseList(schemaKind, value);
  if (isKeyword("dense") || isKeyword("dense_blob") ||
      isKeyword("dense_elided")) {
    TensorLiteral literal;
    literal.attr = name.str();
    if (parseTensorLiteral(literal))
      return true;
    tensors.push_back(std::move(literal));
    value = std::shared_ptr<const Tensor>();
    return false;
  }
  return errorHere(
      fmt::format("expected attribute value, got {}", describe(tok)));
}

bool Parser::parseAttrs(OpKind kind, Attrs &attrs,
                        std::vector<TensorLiteral> &tensors) {
  if (expect(Tok::LBrace, "'{'"))
    return true;
  if (consumeIf(Tok::RBrace))
    return false;
  do {
    Token key = tok;
    if (expect(Tok::Ident, "attribute name") || expect(Tok::Equal, "'='"))
      return true;
    if (attrs.count(key.text))
      return error(key,
                   fmt::format("duplicate attribute '{}'", key.text.str()));
    Attr value;
    if (parseAttrValue(kind, key.text, value, tensors))
      return true;
    attrs.emplace(key.text.str(), std::move(value));
  } while (consumeIf(Tok::Comma));
  return expect(Tok::RBrace, "'}' or ','");
}

template <typename T> bool storeInt(Tensor &t, int64_t i, int64_t v) {
  if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
    return false;
  t.data<T>()[i] = static_cast<T>(v);
  return true;
}

bool storeElement(Tensor &t, int64_t i, int64_t v) {
  switch (t.type.elem) {
  case ElemKind::F32:
    t.data<float>()[i] = static_cast<float>(v);
    return true;
  case ElemKind::I64:
    return storeInt<int64_t>(t, i, v);
  case ElemKind::I32:
    return storeInt<int32_t>(t, i, v);
  case ElemKind::I8:
    return storeInt<int8_t>(t, i, v);
  case ElemKind::U8:
    return storeInt<uint8_t>(t, i, v);
  }
  return false;
}

bool Parser::buildTensor(const TensorLiteral &literal, const TensorType &type,
                         std::shared_ptr<const Tensor> &result) {
  if (!literal.blob.empty()) {
    // The bytes come from the blobs section, possibly after this op.
    auto tensor = std::make_shared<Tensor>(type, std::vector<uint8_t>());
    blobUses.push_back({tensor, literal.blob, literal.at});
    result = std::move(tensor);
    return false;
  }
  int64_t n = type.numElements();
  if (static_cast<int64_t>(literal.elements.size()) != n)
    return error(literal.at,
                 fmt::format("dense literal has {} elements, {} needs {}",
                             literal.elements.size(), toString(type), n));
  auto tensor = std::make_shared<Tensor>(type);
  for (int64_t i = 0; i < n; ++i) {
    Token e = literal.elements[i];
    if (type.elem == ElemKind::F32 && e.kind != Tok::Int) {
      if (!parseFloatText(e.text, tensor->data<float>()[i]))
        return error(e, "number out of range for f32");
      continue;
    }
    int64_t v;
    if (e.kind != Tok::Int)
      return error(
          e, fmt::format("expected integer element for {}", toString(type)));
    if (e.text.getAsInteger(10, v) || !storeElement(*tensor, i, v))
      return error(e, fmt::format("element {} out of range for {}",
                                  e.text.str(), toString(type)));
  }
  result = std::move(tensor);
  return false;
}

bool Parser::parseOp(Function &f) {
  Token first = tok;
  llvm::SmallVector<Token, 2> resultNames;
  do {
    resultNames.push_back(tok);
    if (expect(Tok::ValueName, "value name"))
      return true;
  } while (consumeIf(Tok::Comma));
  if (expect(Tok::Equal, "'='"))
    return true;
  if (tok.kind != Tok::Ident)
    return errorHere(fmt::format("expected op name, got {}", describe(tok)));
  auto kind = parseMnemonic(tok.text);
  if (!kind)
    return errorHere(fmt::format("unknown op '{}'", tok.text.str()));
  consume();
  Op op{*kind, {}, {}, {}};
  if (tok.kind == Tok::ValueName) {
    do {
      ValueId v;
      if (parseUse(v))
        return true;
      op.operands.push_back(v);
    } while (consumeIf(Tok::Comma));
  }
  std::vector<TensorLiteral> tensors;
  if (tok.kind == Tok::LBrace && parseAttrs(*kind, op.attrs, tensors))
    return true;
  if (expect(Tok::Colon, "':' and result types"))
    return true;
  Token typesTok = tok;
  llvm::SmallVector<TensorType, 1> types;
  do {
    if (parseType(types.emplace_back()))
      return true;
  } while (consumeIf(Tok::Comma));
  if (types.size() != resultNames.size())
    return error(typesTok, fmt::format("{} results but {} result types",
                                       resultNames.size(), types.size()));
  for (const TensorLiteral &literal : tensors) {
    std::shared_ptr<const Tensor> tensor;
    if (buildTensor(literal, types[0], tensor))
      return true;
    op.attrs[literal.attr] = std::move(tensor);
  }
  for (size_t i = 0; i < types.size(); ++i) {
    ValueId v = f.newValue(types[i]);
    if (defineValue(resultNames[i], v))
      return true;
    op.results.push_back(v);
  }
  f.ops.push_back(std::move(op));
  opLocations.back().push_back(first);
  return false;
}

bool Parser::parseSignature(Function &f,
                            llvm::SmallVectorImpl<TensorType> &resultTypes) {
  if (expect(Tok::LParen, "'('"))
    return true;
  if (tok.kind != Tok::RParen) {
    do {
      Token name = tok;
      TensorType type;
      std::string argName;
      if (expect(Tok::ValueName, "argument") || expect(Tok::Colon, "':'") ||
          parseType(type) || (tok.kind == Tok::String && parseString(argName)))
        return true;
      ValueId v = f.newValue(type);
      if (defineValue(name, v))
        return true;
      f.args.push_back(v);
      f.argNames.push_back(std::move(argName));
    } while (consumeIf(Tok::Comma));
  }
  if (expect(Tok::RParen, "')'") || expect(Tok::Arrow, "'->'") ||
      expect(Tok::LParen, "'('"))
    return true;
  if (tok.kind != Tok::RParen) {
    do {
      std::string resultName;
      if (parseType(resultTypes.emplace_back()) ||
          (tok.kind == Tok::String && parseString(resultName)))
        return true;
      f.resultNames.push_back(std::move(resultName));
    } while (consumeIf(Tok::Comma));
  }
  return expect(Tok::RParen, "')'");
}

bool Parser::parseReturn(Function &f, llvm::ArrayRef<TensorType> resultTypes) {
  Token ret = tok;
  consume();
  llvm::SmallVector<Token, 2> uses;
  if (tok.kind == Tok::ValueName) {
    do {
      uses.push_back(tok);
      ValueId v;
      if (parseUse(v))
        return true;
      f.results.push_back(v);
    } while (consumeIf(Tok::Comma));
  }
  if (f.results.size() != resultTypes.size())
    return error(ret, fmt::format("return has {} values, the signature "
                                  "declares {} results",
                                  f.results.size(), resultTypes.size()));
  for (size_t i = 0; i < uses.size(); ++i)
    if (f.type(f.results[i]) != resultTypes[i])
      return error(uses[i], fmt::format("'{}' has type {}, the signature "
                                        "declares {}",
                                        uses[i].text.str(),
                                        toString(f.type(f.results[i])),
                                        toString(resultTypes[i])));
  return false;
}

bool Parser::parseFunction() {
  consume(); // func
  Token name = tok;
  if (expect(Tok::AtName, "function name"))
    return true;
  Function f;
  f.name = name.text.drop_front().str();
  values.clear();
  opLocations.emplace_back();
  llvm::SmallVector<TensorType, 1> resultTypes;
  if (parseSignature(f, resultTypes) || expect(Tok::LBrace, "'{'"))
    return true;
  while (!isKeyword("return")) {
    if (tok.kind == Tok::Eof || tok.kind == Tok::RBrace)
      return errorHere(
          fmt::format("expected op or 'return', got {}", describe(tok)));
    if (parseOp(f))
      return true;
  }
  if (parseReturn(f, resultTypes) || expect(Tok::RBrace, "'}'"))
    return true;
  module.functions.push_back(std::move(f));
  return false;
}

bool Parser::parseBlobs() {
  consume(); // blobs
  if (expect(Tok::LBrace, "'{'"))
    return true;
  while (!consumeIf(Tok::RBrace)) {
    Token name = tok;
    if (expect(Tok::AtName, "blob name or '}'") || expect(Tok::Equal, "'='"))
      return true;
    Token hexTok = tok;
    std::string hex, bytes;
    if (parseString(hex))
      return true;
    if (hex.size() % 2 || !llvm::tryGetFromHex(hex, bytes))
      return error(hexTok, "blob must be a string of hex byte pairs");
    std::vector<uint8_t> data(bytes.begin(), bytes.end());
    if (!blobs.try_emplace(name.text.drop_front(), std::move(data), name)
             .second)
      return error(name, fmt::format("duplicate blob '{}'", name.text.str()));
  }
  return false;
}

bool Parser::resolveBlobs() {
  for (BlobUse &use : blobUses) {
    auto it = blobs.find(use.blob);
    if (it == blobs.end())
      return error(use.at, fmt::format("undefined blob '@{}'", use.blob));
    const std::vector<uint8_t> &bytes = it->second.first;
    if (static_cast<int64_t>(bytes.size()) != use.tensor->type.byteSize())
      return error(use.at,
                   fmt::format("blob '@{}' has {} bytes, {} needs {}", use.blob,
                               bytes.size(), toString(use.tensor->type),
                               use.tensor->type.byteSize()));
    use.tensor->bytes = bytes;
  }
  return false;
}

bool Parser::verifyOps() {
  for (size_t fi = 0; fi < module.functions.size(); ++fi) {
    const Function &f = module.functions[fi];
    for (size_t i = 0; i < f.ops.size(); ++i) {
      if (auto err = verifyOp(f, i)) {
        // The verifier's message already says "error: "; add the location.
        std::string message = llvm::toString(std::move(err));
        llvm::StringRef problem(message);
        problem.consume_front("error: ");
        return error(opLocations[fi][i], problem);
      }
    }
  }
  return false;
}

llvm::Expected<Module> Parser::run() {
  bool failed = false;
  while (!failed && tok.kind != Tok::Eof) {
    if (isKeyword("func"))
      failed = parseFunction();
    else if (isKeyword("blobs"))
      failed = parseBlobs();
    else
      failed = errorHere(
          fmt::format("expected 'func' or 'blobs', got {}", describe(tok)));
  }
  failed = failed || resolveBlobs() || verifyOps();
  if (failed)
    return llvm::make_error<llvm::StringError>(errorMessage,
                                               llvm::inconvertibleErrorCode());
  return std::move(module);
}

} // namespace

llvm::Expected<Module> parseModule(llvm::StringRef text,
                                   llvm::StringRef bufferName) {
  return Parser(text, bufferName).run();
}

} // namespace mnc
