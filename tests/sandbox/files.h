// File helpers of the sandbox: whole files, log tails for error messages,
// `{placeholder}` templates from conf/sandbox/, the temp dir and secrets.
// Every failure throws std::runtime_error naming the path.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace caretaker::sandbox {

std::string ReadFile(const std::string& path);

// Creates or truncates `path` with `mode` (the mode is applied even if the
// file existed). With `atomic`, writes a sibling and renames it over `path`,
// so a concurrent reader sees the old or the new content, never a mix.
void WriteFile(const std::string& path, std::string_view text, mode_t mode = 0644,
               bool atomic = false);

// The last `lines` lines of a log, for error messages; "" if unreadable.
std::string TailFile(const std::string& path, size_t lines = 20);

// "; see PATH:\n<last lines>" — appended to errors about a process.
std::string SeeLog(const std::string& path);

using TemplateVars = std::map<std::string, std::string>;

// Replaces each `{name}` (name of [a-z0-9_]) with vars[name]; a `{name}` not in
// `vars` throws (a typo in a template must not reach a process). Other braces
// are left alone. `origin` names the template in that error.
std::string RenderTemplate(std::string_view text, const TemplateVars& vars,
                           std::string_view origin);

// Path of a template: CARETAKER_SOURCE_DIR/conf/sandbox/<name>.
std::string TemplatePath(std::string_view name);

// Reads and renders template `name`.
std::string RenderTemplateFile(std::string_view name, const TemplateVars& vars);

// Renders an argument template: one argument per line; empty lines and lines
// starting with '#' are skipped, surrounding blanks trimmed.
std::vector<std::string> RenderArgsFile(std::string_view name, const TemplateVars& vars);

// mkdtemp("<parent>/caretaker-sandbox-XXXXXX"); parent "" means $TMPDIR or /tmp.
std::string MakeTempDir(const std::string& parent);

// `length` random characters of [A-Za-z0-9] from the OS's entropy source.
std::string RandomToken(size_t length);

}  // namespace caretaker::sandbox
