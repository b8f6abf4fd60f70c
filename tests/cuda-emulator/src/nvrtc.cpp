// GenMetrics CUDA emulator: a fake libnvrtc.so.13 that "compiles" CUDA C with g++ into a shared object.
// The prelude (prelude.h, installed next to this library) supplies what NVRTC provides without includes;
// a launcher is generated for every extern "C" __global__ function. See ../README.md.
#include "emu.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

typedef int nvrtcResult;
enum
{
    NVRTC_SUCCESS = 0, NVRTC_ERROR_OUT_OF_MEMORY = 1, NVRTC_ERROR_PROGRAM_CREATION_FAILURE = 2,
    NVRTC_ERROR_INVALID_INPUT = 3, NVRTC_ERROR_INVALID_PROGRAM = 4, NVRTC_ERROR_INVALID_OPTION = 5,
    NVRTC_ERROR_COMPILATION = 6, NVRTC_ERROR_BUILTIN_OPERATION_FAILURE = 7, NVRTC_ERROR_INTERNAL_ERROR = 11,
};
static const char* kResultNames[] = {
    "NVRTC_SUCCESS", "NVRTC_ERROR_OUT_OF_MEMORY", "NVRTC_ERROR_PROGRAM_CREATION_FAILURE", "NVRTC_ERROR_INVALID_INPUT",
    "NVRTC_ERROR_INVALID_PROGRAM", "NVRTC_ERROR_INVALID_OPTION", "NVRTC_ERROR_COMPILATION",
    "NVRTC_ERROR_BUILTIN_OPERATION_FAILURE", "NVRTC_ERROR_NO_NAME_EXPRESSIONS_AFTER_COMPILATION",
    "NVRTC_ERROR_NO_LOWERED_NAMES_BEFORE_COMPILATION", "NVRTC_ERROR_NAME_EXPRESSION_NOT_VALID",
    "NVRTC_ERROR_INTERNAL_ERROR", "NVRTC_ERROR_TIME_FILE_WRITE_FAILED", "NVRTC_ERROR_NO_PCH_CREATE_ATTEMPTED",
    "NVRTC_ERROR_PCH_CREATE_HEAP_EXHAUSTED", "NVRTC_ERROR_PCH_CREATE", "NVRTC_ERROR_CANCELLED",
    "NVRTC_ERROR_TIME_TRACE_FILE_WRITE_FAILED",
};

struct Program
{
    int magic = 0x50524f47;
    std::string source, name;
    std::vector<std::pair<std::string, std::string>> headers;  // include name, contents
    bool compiled = false;
    std::string log, arch;
    std::vector<char> cubin, ptx;
};
static Program* as_program(void* p) { return p && static_cast<Program*>(p)->magic == 0x50524f47 ? static_cast<Program*>(p) : nullptr; }

extern "C" const char* nvrtcGetErrorString(nvrtcResult r)
{
    if (r >= 0 && r < (int)(sizeof kResultNames / sizeof kResultNames[0])) return kResultNames[r];
    return "NVRTC_ERROR unknown";
}

extern "C" nvrtcResult nvrtcVersion(int* major, int* minor)
{
    if (!major || !minor) return NVRTC_ERROR_INVALID_INPUT;
#if defined(GMEMU_TOOLKIT) && GMEMU_TOOLKIT == 12
    *major = 12;
    *minor = 8;
#else
    *major = 13;
    *minor = 0;
#endif
    return NVRTC_SUCCESS;
}

extern "C" nvrtcResult nvrtcCreateProgram(void** prog, const char* src, const char* name, int num_headers,
                                          const char* const* headers, const char* const* include_names)
{
    if (!prog) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!src) return NVRTC_ERROR_INVALID_INPUT;
    if (num_headers < 0 || (num_headers > 0 && (!headers || !include_names))) return NVRTC_ERROR_INVALID_INPUT;
    Program* p = new Program;
    p->source = src;
    p->name = name ? name : "default_program";
    for (int i = 0; i < num_headers; i++)
    {
        if (!include_names[i]) { delete p; return NVRTC_ERROR_INVALID_INPUT; }
        p->headers.emplace_back(include_names[i], headers[i] ? headers[i] : "");
    }
    *prog = p;
    return NVRTC_SUCCESS;
}

extern "C" nvrtcResult nvrtcDestroyProgram(void** prog)
{
    if (!prog) return NVRTC_ERROR_INVALID_PROGRAM;
    Program* p = as_program(*prog);
    if (!p) return NVRTC_ERROR_INVALID_PROGRAM;
    p->magic = 0;
    delete p;
    *prog = nullptr;
    return NVRTC_SUCCESS;
}

// ---- source scanning: extern "C" __global__ kernels and their __launch_bounds__

static std::string strip_comments(const std::string& s)
{
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();)
    {
        if (s.compare(i, 2, "//") == 0) { while (i < s.size() && s[i] != '\n') i++; }
        else if (s.compare(i, 2, "/*") == 0)
        {
            size_t e = s.find("*/", i + 2);
            i = e == std::string::npos ? s.size() : e + 2;
            out += ' ';
        }
        else if (s[i] == '"' || s[i] == '\'')
        {
            char q = s[i];
            out += s[i++];
            while (i < s.size() && s[i] != q) { if (s[i] == '\\' && i + 1 < s.size()) out += s[i++]; out += s[i++]; }
            if (i < s.size()) out += s[i++];
        }
        else out += s[i++];
    }
    return out;
}

struct Kernel { std::string name, bounds; };

static bool ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

static std::vector<Kernel> find_kernels(const std::string& source)
{
    std::string s = strip_comments(source);
    std::vector<Kernel> kernels;
    for (size_t pos = 0; (pos = s.find("__global__", pos)) != std::string::npos; pos += 10)
    {
        if ((pos > 0 && ident_char(s[pos - 1])) || ident_char(s[pos + 10])) continue;
        // extern "C" must precede it in the same declaration (after the previous ';' or '}')
        size_t decl = s.find_last_of(";}", pos);
        std::string prefix = s.substr(decl == std::string::npos ? 0 : decl + 1, pos - (decl == std::string::npos ? 0 : decl + 1));
        if (prefix.find("template") != std::string::npos) continue;
        if (prefix.find("extern \"C\"") == std::string::npos) continue;  // C++ linkage: mangled name, as with NVRTC
        size_t i = pos + 10;
        Kernel k;
        std::string last;
        while (i < s.size())
        {
            while (i < s.size() && isspace((unsigned char)s[i])) i++;
            if (i >= s.size()) break;
            if (s[i] == '(')
            {
                if (last == "__launch_bounds__")
                {
                    int depth = 0;
                    size_t start = i + 1;
                    for (; i < s.size(); i++)
                    {
                        if (s[i] == '(') depth++;
                        else if (s[i] == ')' && --depth == 0) break;
                    }
                    std::string args = s.substr(start, i - start);
                    size_t comma = args.find(',');
                    k.bounds = comma == std::string::npos ? args : args.substr(0, comma);
                    i++;
                    last.clear();
                    continue;
                }
                k.name = last;
                break;
            }
            if (ident_char(s[i]))
            {
                size_t start = i;
                while (i < s.size() && ident_char(s[i])) i++;
                last = s.substr(start, i - start);
            }
            else i++;  // '*', '&', ...
        }
        if (!k.name.empty()) kernels.push_back(k);
    }
    return kernels;
}

// ---- options

static bool valid_arch(const std::string& a)
{
    static const char* known[] = {"75", "80", "86", "87", "88", "89", "90", "90a", "100", "100a", "100f", "103", "103a", "103f",
                                  "110", "110a", "110f", "120", "120a", "120f", "121", "121a", "121f"};
    std::string num;
    if (a.rfind("sm_", 0) == 0) num = a.substr(3);
    else if (a.rfind("compute_", 0) == 0) num = a.substr(8);
    else return false;
    for (const char* k : known) if (num == k) return true;
    return false;
}

static bool starts(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

static std::string shell_quote(const std::string& s)
{
    std::string q = "'";
    for (char c : s) { if (c == '\'') q += "'\\''"; else q += c; }
    return q + "'";
}

static std::string library_dir()
{
    Dl_info info;
    if (dladdr((void*)&nvrtcVersion, &info) && info.dli_fname)
    {
        std::string p = info.dli_fname;
        size_t slash = p.rfind('/');
        return slash == std::string::npos ? "." : p.substr(0, slash);
    }
    return ".";
}

static bool read_file(const std::string& path, std::vector<char>& out)
{
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    return true;
}

extern "C" nvrtcResult nvrtcCompileProgram(void* prog, int num_options, const char* const* options)
{
    Program* p = as_program(prog);
    if (!p) return NVRTC_ERROR_INVALID_PROGRAM;
    if (num_options < 0 || (num_options > 0 && !options)) return NVRTC_ERROR_INVALID_INPUT;
    p->log.clear();
    p->compiled = false;
    std::string arch = "compute_75";  // CUDA 13's default virtual architecture
    std::string std_flag = "-std=c++17";
    std::vector<std::string> extra;
    for (int i = 0; i < num_options; i++)
    {
        if (!options[i]) return NVRTC_ERROR_INVALID_INPUT;
        std::string o = options[i];
        auto value_of = [&](const char* longname, const char* shortname, std::string* v) -> int {
            // returns 1 when o is this option (value in *v), -1 when it is but its value is missing
            for (const char* n : {longname, shortname})
            {
                if (!n) continue;
                std::string eq = std::string(n) + "=";
                if (starts(o, eq.c_str())) { *v = o.substr(eq.size()); return 1; }
                if (o == n)
                {
                    if (i + 1 >= num_options || !options[i + 1]) return -1;
                    *v = options[++i];
                    return 1;
                }
            }
            return 0;
        };
        std::string v;
        int r;
        if ((r = value_of("--gpu-architecture", "-arch", &v)) != 0)
        {
            if (r < 0 || !valid_arch(v)) { p->log = "nvrtc: error: invalid value for --gpu-architecture (-arch)\n"; return NVRTC_ERROR_INVALID_OPTION; }
            arch = v;
        }
        else if ((r = value_of("--std", "-std", &v)) != 0)
        {
            if (r < 0 || (v != "c++03" && v != "c++11" && v != "c++14" && v != "c++17" && v != "c++20"))
            { p->log = "nvrtc: error: invalid value for --std\n"; return NVRTC_ERROR_INVALID_OPTION; }
            std_flag = "-std=" + (v == "c++03" ? std::string("c++03") : v);
        }
        else if ((r = value_of("--define-macro", "-D", &v)) != 0) { if (r < 0) return NVRTC_ERROR_INVALID_OPTION; extra.push_back("-D" + v); }
        else if (starts(o, "-D") && o.size() > 2) extra.push_back(o);
        else if ((r = value_of("--undefine-macro", "-U", &v)) != 0) { if (r < 0) return NVRTC_ERROR_INVALID_OPTION; extra.push_back("-U" + v); }
        else if ((r = value_of("--include-path", "-I", &v)) != 0) { if (r < 0) return NVRTC_ERROR_INVALID_OPTION; extra.push_back("-I" + v); }
        else if (starts(o, "-I") && o.size() > 2) extra.push_back(o);
        else if ((r = value_of("--pre-include", "-include", &v)) != 0) { if (r < 0) return NVRTC_ERROR_INVALID_OPTION; extra.push_back("-include"); extra.push_back(v); }
        else if (o == "-lineinfo" || o == "--generate-line-info" || o == "-G" || o == "--device-debug" || o == "-w" ||
                 o == "--disable-warnings" || o == "-use_fast_math" || o == "--use_fast_math" || o == "-restrict" ||
                 o == "--restrict" || o == "-default-device" || o == "--device-as-default-execution-space" ||
                 o == "-dopt" || o == "--extra-device-vectorization" || o == "-extra-device-vectorization" ||
                 o == "-dlto" || o == "--dlink-time-opt" || o == "--minimal" || o == "-minimal" ||
                 o == "-builtin-move-forward=true" || o == "-builtin-initializer-list=true" ||
                 starts(o, "-ftz=") || starts(o, "--ftz=") || starts(o, "-prec-div=") || starts(o, "--prec-div=") ||
                 starts(o, "-prec-sqrt=") || starts(o, "--prec-sqrt=") || starts(o, "-fmad=") || starts(o, "--fmad=") ||
                 starts(o, "-maxrregcount=") || starts(o, "--maxrregcount=") || starts(o, "-rdc=") ||
                 starts(o, "--relocatable-device-code=") || starts(o, "-dopt=") || starts(o, "--dopt=") ||
                 starts(o, "-split-compile=") || starts(o, "--split-compile="))
        {
            // accepted; no effect on the emulator
        }
        else
        {
            p->log = "nvrtc: error: unrecognized option '" + o + "'\n";  // what NVRTC reports for an unknown option
            return NVRTC_ERROR_INVALID_OPTION;
        }
    }

    char dir_template[] = "/tmp/gmemu-nvrtc-XXXXXX";
    if (!mkdtemp(dir_template)) return NVRTC_ERROR_INTERNAL_ERROR;
    std::string dir = dir_template;
    for (auto& [name, text] : p->headers)
    {
        std::string path = dir + "/" + name;
        size_t slash = path.rfind('/');
        std::string mk = "mkdir -p " + shell_quote(path.substr(0, slash));
        if (system(mk.c_str()) != 0) return NVRTC_ERROR_INTERNAL_ERROR;
        std::ofstream(path, std::ios::binary) << text;
    }
    std::vector<Kernel> kernels = find_kernels(p->source);
    std::ostringstream src;
    src << "#line 1 \"" << p->name << "\"\n" << p->source << "\n";
    src << "#line 1 \"<genmetrics-cuda-emulator: generated launchers>\"\n";
    for (auto& k : kernels)
    {
        src << "extern \"C\" __attribute__((visibility(\"default\"))) void gmemu_launch_" << k.name
            << "(void** p) { gmemu_invoke(&" << k.name << ", p); }\n";
        src << "extern \"C\" __attribute__((visibility(\"default\"))) int gmemu_info_" << k.name
            << "(int* s, int* q, int n) { return gmemu_param_info(&" << k.name << ", s, q, n); }\n";
        src << "extern \"C\" __attribute__((visibility(\"default\"))) const int gmemu_maxthreads_" << k.name << " = "
            << (k.bounds.empty() ? std::string("0") : "(int)(" + k.bounds + ")") << ";\n";
    }
    std::string cu = dir + "/program.cu", so = dir + "/program.so", out = dir + "/log.txt";
    std::ofstream(cu) << src.str();
    const char* cxx = getenv("GM_CUDA_EMU_CXX");
    std::string cmd = std::string(cxx && *cxx ? cxx : "g++") + " -x c++ " + std_flag +
                      " -shared -fPIC -O2 -g0 -nostdinc -fno-exceptions -fno-rtti -fno-math-errno -fvisibility=hidden"
                      " -Wall -Wno-unused-function -Wno-unused-variable -Wno-attributes"
                      " -include " + shell_quote(library_dir() + "/prelude.h") + " -I" + shell_quote(dir);
    for (auto& e : extra) cmd += " " + shell_quote(e);
    cmd += " " + shell_quote(cu) + " -o " + shell_quote(so) + " -lm > " + shell_quote(out) + " 2>&1";
    int status = system(cmd.c_str());
    std::vector<char> log;
    read_file(out, log);
    p->log.assign(log.begin(), log.end());
    bool ok = status == 0;
    std::vector<char> image;
    if (ok && !read_file(so, image)) ok = false;
    std::string cleanup = "rm -rf " + shell_quote(dir);
    if (system(cleanup.c_str()) != 0) {}
    if (!ok)
    {
        if (p->log.empty()) p->log = "g++ failed without output (exit status " + std::to_string(status) + ")\n";
        return NVRTC_ERROR_COMPILATION;
    }
    p->arch = arch;
    p->compiled = true;
    // CUBIN: header + shared object (only for a real sm_XX architecture); "PTX": text with the object in hex.
    p->cubin.clear();
    if (starts(arch, "sm_"))
    {
        gmemu_image_header h;
        memset(&h, 0, sizeof h);
        memcpy(h.magic, GMEMU_IMAGE_MAGIC, sizeof(GMEMU_IMAGE_MAGIC));
        snprintf(h.arch, sizeof h.arch, "%s", arch.c_str());
        h.so_bytes = image.size();
        p->cubin.resize(sizeof h + image.size());
        memcpy(p->cubin.data(), &h, sizeof h);
        memcpy(p->cubin.data() + sizeof h, image.data(), image.size());
    }
    std::string ptx = std::string(GMEMU_PTX_MAGIC) + "// gmemu-arch " +
                      (starts(arch, "sm_") ? "compute_" + arch.substr(3) : arch) + "\n// gmemu-so-hex ";
    static const char* hex = "0123456789abcdef";
    ptx.reserve(ptx.size() + image.size() * 2 + 2);
    for (char c : image) { ptx += hex[(unsigned char)c >> 4]; ptx += hex[(unsigned char)c & 15]; }
    ptx += "\n";
    p->ptx.assign(ptx.begin(), ptx.end());
    p->ptx.push_back(0);
    return NVRTC_SUCCESS;
}

extern "C" nvrtcResult nvrtcGetProgramLogSize(void* prog, size_t* size)
{
    Program* p = as_program(prog);
    if (!p) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!size) return NVRTC_ERROR_INVALID_INPUT;
    *size = p->log.size() + 1;
    return NVRTC_SUCCESS;
}
extern "C" nvrtcResult nvrtcGetProgramLog(void* prog, char* log)
{
    Program* p = as_program(prog);
    if (!p) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!log) return NVRTC_ERROR_INVALID_INPUT;
    memcpy(log, p->log.c_str(), p->log.size() + 1);
    return NVRTC_SUCCESS;
}
extern "C" nvrtcResult nvrtcGetPTXSize(void* prog, size_t* size)
{
    Program* p = as_program(prog);
    if (!p) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!size) return NVRTC_ERROR_INVALID_INPUT;
    if (!p->compiled) return NVRTC_ERROR_INVALID_PROGRAM;
    *size = p->ptx.size();
    return NVRTC_SUCCESS;
}
extern "C" nvrtcResult nvrtcGetPTX(void* prog, char* ptx)
{
    Program* p = as_program(prog);
    if (!p) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!ptx) return NVRTC_ERROR_INVALID_INPUT;
    if (!p->compiled) return NVRTC_ERROR_INVALID_PROGRAM;
    memcpy(ptx, p->ptx.data(), p->ptx.size());
    return NVRTC_SUCCESS;
}
// Documented: the CUBIN size is 0 when -arch named a virtual architecture (compute_XX).
extern "C" nvrtcResult nvrtcGetCUBINSize(void* prog, size_t* size)
{
    Program* p = as_program(prog);
    if (!p) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!size) return NVRTC_ERROR_INVALID_INPUT;
    if (!p->compiled) return NVRTC_ERROR_INVALID_PROGRAM;
    *size = p->cubin.size();
    return NVRTC_SUCCESS;
}
extern "C" nvrtcResult nvrtcGetCUBIN(void* prog, char* cubin)
{
    Program* p = as_program(prog);
    if (!p) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!cubin) return NVRTC_ERROR_INVALID_INPUT;
    if (!p->compiled || p->cubin.empty()) return NVRTC_ERROR_INVALID_PROGRAM;
    memcpy(cubin, p->cubin.data(), p->cubin.size());
    return NVRTC_SUCCESS;
}
