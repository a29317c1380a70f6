#include "cli/lead_files.h"

#include <fstream>
#include <iostream>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"

#include "common/status.h"

namespace accord::cli {
namespace {

namespace sv1 = ::accord::scoring::v1;

// One CSV record (RFC 4180 quoting); false at end of input.
bool ReadCsvRecord(std::istream& in, std::vector<std::string>& fields, int& line) {
  fields.clear();
  std::string field;
  bool quoted = false, any = false;
  char c;
  while (in.get(c)) {
    any = true;
    if (quoted) {
      if (c == '"') {
        if (in.peek() == '"') {
          field += '"';
          in.get(c);
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') {
          ++line;
        }
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      ++line;
      fields.push_back(std::move(field));
      return true;
    } else if (c != '\r') {
      field += c;
    }
  }
  if (any) {
    fields.push_back(std::move(field));
  }
  return any;
}

void SetPath(google::protobuf::Struct* root, const std::vector<std::string>& path,
             const std::string& text) {
  google::protobuf::Struct* s = root;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    s = (*s->mutable_fields())[path[i]].mutable_struct_value();
  }
  google::protobuf::Value& v = (*s->mutable_fields())[path.back()];
  double number;
  if (text == "true" || text == "false") {
    v.set_bool_value(text == "true");
  } else if (!text.empty() && absl::SimpleAtod(text, &number) &&
             text.find_first_not_of("0123456789.-+eE") == std::string::npos) {
    v.set_number_value(number);
  } else {
    v.set_string_value(text);
  }
}

}  // namespace

absl::StatusOr<std::vector<sv1::Lead>> ReadLeads(const std::string& file) {
  std::ifstream in(file);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(file, ": cannot be read"));
  }
  std::vector<sv1::Lead> leads;
  const bool csv = absl::EndsWith(file, ".csv");
  if (csv) {
    std::vector<std::string> header, row;
    int line = 0;
    if (!ReadCsvRecord(in, header, line)) {
      return absl::InvalidArgumentError(absl::StrCat(file, ":1: empty file"));
    }
    std::vector<std::vector<std::string>> paths;
    for (const std::string& h : header) {
      paths.push_back(absl::StrSplit(absl::StripAsciiWhitespace(h), '.'));
    }
    int start = line + 1;
    while (ReadCsvRecord(in, row, line)) {
      if (row.size() == 1 && row[0].empty()) {
        start = line + 1;
        continue;
      }
      if (row.size() != header.size()) {
        return absl::InvalidArgumentError(absl::StrCat(file, ":", start, ": ", row.size(),
                                                       " columns, the header has ", header.size()));
      }
      sv1::Lead& lead = leads.emplace_back();
      for (size_t i = 0; i < row.size(); ++i) {
        if (header[i] == "id") {
          lead.set_id(row[i]);
        } else if (!row[i].empty()) {
          SetPath(lead.mutable_attributes(), paths[i], row[i]);
        }
      }
      start = line + 1;
    }
    return leads;
  }
  std::string text;
  int line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (absl::StripAsciiWhitespace(text).empty()) {
      continue;
    }
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    auto status = google::protobuf::util::JsonStringToMessage(text, &leads.emplace_back(), options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ":", line, ": ", std::string(status.message())));
    }
  }
  return leads;
}

bool ReadJson(const std::string& file, google::protobuf::Message* message) {
  std::ifstream in(file);
  if (!in) {
    std::cerr << file << ": cannot be read\n";
    return false;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto parsed = google::protobuf::util::JsonStringToMessage(text, message);
  if (!parsed.ok()) {
    std::cerr << file << ": " << parsed.message() << "\n";
    return false;
  }
  return true;
}

}  // namespace accord::cli
