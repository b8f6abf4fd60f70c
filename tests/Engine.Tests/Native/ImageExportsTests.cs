using System.Runtime.InteropServices;
using System.Text;
using GenMetrics.Imaging;
using GenMetrics.Models;
using GenMetrics.Native;
using GenMetrics.Reports;
using GenMetrics.Tests.Models;

namespace GenMetrics.Tests.Native;

/// <summary>
/// genmetrics_features_from_images / genmetrics_statistics_from_images called through unmanaged function
/// pointers as C calls them: the same numbers as the managed façade, errors as a status and a message.
/// </summary>
public unsafe class ImageExportsTests
{
    string _dir = "";
    string _onnx = "";
    string _folder = "";
    nint _context;

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("genmetrics-cimg-").FullName;
        var store = new ModelStore(Path.Combine(_dir, "models"));
        store.Install(ModelStoreTests.TinyModel("tiny_zip.pt"), SyntheticWeights.FixturePath("tiny_zip.pt"));
        _onnx = store.OnnxPath("tiny");
        _folder = Path.Combine(_dir, "images");
        Directory.CreateDirectory(_folder);
        var rng = new Random(7);
        for (int i = 0; i < 10; i++)
        {
            var pixels = new byte[3 * 19 * 14];
            rng.NextBytes(pixels);
            PngWriter.Write(Path.Combine(_folder, $"{i:00}.png"), new RgbImage(19, 14, pixels));
        }
        delegate* unmanaged<byte*, nint*, NativeStatus> create = &Exports.CreateContext;
        nint context;
        fixed (byte* cpu = "cpu\0"u8) Assert.That(create(cpu, &context), Is.EqualTo(NativeStatus.Ok));
        _context = context;
    }

    [TearDown]
    public void TearDown()
    {
        delegate* unmanaged<nint, void> destroy = &Exports.DestroyContext;
        destroy(_context);
        Directory.Delete(_dir, recursive: true);
    }

    static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s + "\0");

    static string LastErrorText()
    {
        delegate* unmanaged<byte*> lastError = &Exports.GetLastError;
        return Marshal.PtrToStringUTF8((nint)lastError()) ?? "<null>";
    }

    [Test]
    public void FeaturesAndStatisticsEqualTheFacade()
    {
        var expected = GenerativeMetrics.Features(_folder, new FeatureLayer(_onnx, "pool"),
            new ImagePipelineOptions { Mode = ResizeMode.LegacyTensorFlow, UseCache = false });
        var expectedStats = GenerativeMetrics.Statistics(expected);
        delegate* unmanaged<nint, byte*, byte*, byte*, byte*, float**, long*, long*, NativeStatus> features = &ImageExports.FeaturesFromImages;
        delegate* unmanaged<float*, void> free = &ImageExports.FreeFeatures;
        delegate* unmanaged<nint, byte*, byte*, byte*, byte*, double*, double*, long, long*, long*, NativeStatus> statistics = &ImageExports.StatisticsFromImages;
        fixed (byte* path = Utf8(_folder), network = Utf8(_onnx), layer = Utf8("pool"), mode = Utf8("legacy-tensorflow"))
        {
            float* data;
            long rows, dim;
            Assert.That(features(_context, path, network, layer, mode, &data, &rows, &dim), Is.EqualTo(NativeStatus.Ok), LastErrorText());
            Assert.That((rows, dim), Is.EqualTo((10L, 4L)));
            Assert.That(new ReadOnlySpan<float>(data, 40).ToArray(), Is.EqualTo(expected.Data));
            free(data);

            var mu = new double[4];
            var sigma = new double[16];
            long count;
            fixed (double* m = mu, s = sigma)
            {
                Assert.That(statistics(_context, path, network, layer, mode, m, s, 4, &dim, &count), Is.EqualTo(NativeStatus.Ok), LastErrorText());
                Assert.That(count, Is.EqualTo(10));
                Assert.That(mu, Is.EqualTo(expectedStats.Mean));
                Assert.That(sigma, Is.EqualTo(expectedStats.Covariance));

                // Too small a buffer: an argument error that still says the dim needed.
                Assert.That(statistics(_context, path, network, layer, mode, m, s, 3, &dim, &count), Is.EqualTo(NativeStatus.Argument));
                Assert.That(dim, Is.EqualTo(4));
                Assert.That(LastErrorText(), Does.Contain("dim_capacity is 3"));
            }
        }
    }

    [Test]
    public void BadInputsAreStatusesWithMessages()
    {
        delegate* unmanaged<nint, byte*, byte*, byte*, byte*, float**, long*, long*, NativeStatus> features = &ImageExports.FeaturesFromImages;
        float* data;
        long rows, dim;
        fixed (byte* missing = Utf8(Path.Combine(_dir, "missing")), path = Utf8(_folder), network = Utf8(_onnx), nope = Utf8("nope"))
        {
            Assert.That(features(_context, missing, network, nope, null, &data, &rows, &dim), Is.EqualTo(NativeStatus.Input));
            Assert.That(LastErrorText(), Does.Contain("missing"));
            Assert.That(features(_context, path, network, nope, null, &data, &rows, &dim), Is.EqualTo(NativeStatus.Input));
            Assert.That(LastErrorText(), Does.Contain("no output 'nope'"));
            Assert.That(features(_context, null, network, nope, null, &data, &rows, &dim), Is.EqualTo(NativeStatus.Argument));
            Assert.That(features(_context, path, network, nope, null, null, &rows, &dim), Is.EqualTo(NativeStatus.Argument));
        }
        File.WriteAllBytes(Path.Combine(_folder, "05.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        fixed (byte* path = Utf8(_folder), network = Utf8(_onnx), pool = Utf8("pool"))
        {
            Assert.That(features(_context, path, network, pool, null, &data, &rows, &dim), Is.EqualTo(NativeStatus.Input));
            Assert.That(LastErrorText(), Does.Contain("05.png"));
        }
    }
}
