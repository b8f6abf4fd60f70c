using System.Runtime.InteropServices;
using System.Text;

namespace GenMetrics.Cuda.Interop;

/// <summary>Compiles CUDA C source at run time with NVRTC.</summary>
internal static unsafe class NvrtcCompiler
{
    /// <summary>(major, minor) of the loaded NVRTC.</summary>
    public static (int Major, int Minor) Version(CudaLibraries libs)
    {
        var api = libs.RequireNvrtc();
        int major, minor;
        CudaStatus.Check(CudaLibrary.Nvrtc, "nvrtcVersion", api.nvrtcVersion(&major, &minor));
        return (major, minor);
    }

    /// <summary>
    /// Compiles <paramref name="source"/> and returns a CUBIN (when <paramref name="cubin"/>; needs a real
    /// -arch=sm_XY option) or NUL-terminated PTX. A compile error throws a <see cref="CudaException"/>
    /// whose message carries NVRTC's log verbatim.
    /// </summary>
    public static byte[] Compile(CudaLibraries libs, string source, string fileName, IReadOnlyList<string> options, bool cubin)
    {
        var api = libs.RequireNvrtc();
        byte[] src = Encoding.UTF8.GetBytes(source + "\0");
        byte[] name = Encoding.UTF8.GetBytes(fileName + "\0");
        nint program;
        fixed (byte* s = src, n = name)
            CudaStatus.Check(CudaLibrary.Nvrtc, "nvrtcCreateProgram", api.nvrtcCreateProgram(&program, s, n, 0, null, null));
        var optionHandles = new List<GCHandle>();
        try
        {
            byte** opts = stackalloc byte*[Math.Max(options.Count, 1)];
            for (int i = 0; i < options.Count; i++)
            {
                var h = GCHandle.Alloc(Encoding.UTF8.GetBytes(options[i] + "\0"), GCHandleType.Pinned);
                optionHandles.Add(h);
                opts[i] = (byte*)h.AddrOfPinnedObject();
            }
            int status = api.nvrtcCompileProgram(program, options.Count, opts);
            if (status != 0)
                CudaStatus.Check(CudaLibrary.Nvrtc, $"nvrtcCompileProgram({fileName}, {string.Join(' ', options)})", status, ReadLog(api, program));
            nuint size;
            if (cubin)
            {
                CudaStatus.Check(CudaLibrary.Nvrtc, "nvrtcGetCUBINSize", api.nvrtcGetCUBINSize(program, &size));
                var image = new byte[(int)size];
                fixed (byte* p = image) CudaStatus.Check(CudaLibrary.Nvrtc, "nvrtcGetCUBIN", api.nvrtcGetCUBIN(program, p));
                return image;
            }
            // The PTX size includes the terminating NUL, which cuModuleLoadDataEx needs.
            CudaStatus.Check(CudaLibrary.Nvrtc, "nvrtcGetPTXSize", api.nvrtcGetPTXSize(program, &size));
            var ptx = new byte[(int)size];
            fixed (byte* p = ptx) CudaStatus.Check(CudaLibrary.Nvrtc, "nvrtcGetPTX", api.nvrtcGetPTX(program, p));
            return ptx;
        }
        finally
        {
            foreach (var h in optionHandles) h.Free();
            api.nvrtcDestroyProgram(&program);
        }
    }

    private static string ReadLog(NvrtcApi api, nint program)
    {
        nuint size;
        if (api.nvrtcGetProgramLogSize(program, &size) != 0 || size <= 1) return "(NVRTC gave no log)";
        var log = new byte[(int)size];
        fixed (byte* p = log)
            if (api.nvrtcGetProgramLog(program, p) != 0) return "(NVRTC log unavailable)";
        return Encoding.UTF8.GetString(log, 0, log.Length - 1);
    }
}
