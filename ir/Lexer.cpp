// The lexer of the textual IR: see ir/Lexer.h.
#include "ir/Lexer.h"

#include "llvm/ADT/StringExtras.h"

namespace mnc {

static bool isIdentChar(char c) {
  return llvm::isAlnum(c) || c == '_' || c == '.';
}

void Lexer::skipSpaceAndComments() {
  while (pos < buffer.size()) {
    if (llvm::isSpace(buffer[pos])) {
      ++pos;
    } else if (buffer.substr(pos).starts_with("//")) {
      pos = std::min(buffer.find('\n', pos), buffer.size());
    } else {
      return;
    }
  }
}

Token Lexer::next() {
  skipSpaceAndComments();
  size_t start = pos;
  if (pos >= buffer.size())
    return make(Tok::Eof, start);
  char c = buffer[pos++];
  auto lexName = [&](Tok kind) {
    while (pos < buffer.size() && isIdentChar(buffer[pos]))
      ++pos;
    return make(pos == start + 1 ? Tok::Error : kind, start);
  };
  switch (c) {
  case '(':
    return make(Tok::LParen, start);
  case ')':
    return make(Tok::RParen, start);
  case '[':
    return make(Tok::LSquare, start);
  case ']':
    return make(Tok::RSquare, start);
  case '{':
    return make(Tok::LBrace, start);
  case '}':
    return make(Tok::RBrace, start);
  case '<':
    return make(Tok::Less, start);
  case '>':
    return make(Tok::Greater, start);
  case ',':
    return make(Tok::Comma, start);
  case ':':
    return make(Tok::Colon, start);
  case '=':
    return make(Tok::Equal, start);
  case '%':
    return lexName(Tok::ValueName);
  case '@':
    return lexName(Tok::AtName);
  case '"':
    return lexString(start);
  case '-':
    if (pos < buffer.size() && buffer[pos] == '>') {
      ++pos;
      return make(Tok::Arrow, start);
    }
    if (buffer.substr(pos).starts_with("inf") &&
        (pos + 3 == buffer.size() || !isIdentChar(buffer[pos + 3]))) {
      pos += 3;
      return make(Tok::Float, start);
    }
    return lexNumber(start);
  default:
    break;
  }
  if (llvm::isDigit(c))
    return lexNumber(start);
  if (llvm::isAlpha(c) || c == '_') {
    while (pos < buffer.size() &&
           (llvm::isAlnum(buffer[pos]) || buffer[pos] == '_'))
      ++pos;
    return make(Tok::Ident, start);
  }
  return make(Tok::Error, start);
}

Token Lexer::lexNumber(size_t start) {
  // `start` is at a digit or a '-'; pos is one past it.
  auto digits = [&] {
    size_t from = pos;
    while (pos < buffer.size() && llvm::isDigit(buffer[pos]))
      ++pos;
    return pos > from;
  };
  bool any = llvm::isDigit(buffer[start]);
  any |= digits();
  if (!any)
    return make(Tok::Error, start);
  Tok kind = Tok::Int;
  if (pos < buffer.size() && buffer[pos] == '.') {
    ++pos;
    digits();
    kind = Tok::Float;
  }
  if (pos < buffer.size() && (buffer[pos] == 'e' || buffer[pos] == 'E')) {
    ++pos;
    if (pos < buffer.size() && (buffer[pos] == '+' || buffer[pos] == '-'))
      ++pos;
    if (!digits())
      return make(Tok::Error, start);
    kind = Tok::Float;
  }
  return make(kind, start);
}

Token Lexer::lexString(size_t start) {
  while (pos < buffer.size() && buffer[pos] != '\n') {
    char c = buffer[pos++];
    if (c == '"')
      return make(Tok::String, start);
    if (c == '\\' && pos < buffer.size())
      ++pos;
  }
  return make(Tok::Error, start);
}

} // namespace mnc
