// Tokens of the textual IR (grammar in ir/Printer.h), for ir/Parser.cpp.
#pragma once

#include "llvm/ADT/StringRef.h"

namespace mnc {

enum class Tok {
  Eof,
  Error,
  Ident,     // func, f32, conv2d, inf, ...
  ValueName, // %x
  AtName,    // @x
  Int,
  Float,
  String,
  LParen,
  RParen,
  LSquare,
  RSquare,
  LBrace,
  RBrace,
  Less,
  Greater,
  Comma,
  Colon,
  Equal,
  Arrow,
};

struct Token {
  Tok kind = Tok::Eof;
  llvm::StringRef text; ///< Spelling in the buffer; names keep their sigil.
};

/// Splits IR text into tokens; `//` comments and whitespace are skipped.
/// Malformed input gives Tok::Error tokens, never a crash.
class Lexer {
public:
  explicit Lexer(llvm::StringRef buffer) : buffer(buffer), pos(0) {}

  Token next();

private:
  Token make(Tok kind, size_t start) {
    return {kind, buffer.slice(start, pos)};
  }
  Token lexNumber(size_t start);
  Token lexString(size_t start);
  void skipSpaceAndComments();

  llvm::StringRef buffer;
  size_t pos;
};

} // namespace mnc
