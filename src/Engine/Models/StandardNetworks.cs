namespace GenMetrics.Models;

/// <summary>
/// The reference feature networks as layer lists over PyTorch state_dict key names: pytorch-fid's
/// FID-Inception (weights pt_inception-2015-12-05-6726825d.pth) and torchvision's VGG-16 (vgg16-397923af.pth).
/// The input normalisation is not part of either network: the image pipeline feeds normalised NCHW input.
/// </summary>
public static class StandardNetworks
{
    private const double InceptionBatchNormEps = 0.001;

    /// <summary>
    /// FID-Inception: torchvision's Inception-v3 layout (BasicConv2d = conv without bias + BN eps 0.001 + ReLU) with
    /// the TF-graph differences of metrics-spec §1: the pool branch of Mixed_5b–5d, 6b–6e and 7b is a 3×3/s1/p1
    /// average pool that ignores padded zeros, Mixed_7c's is a 3×3/s1/p1 max pool; no aux classifier.
    /// Input [N,3,299,299]; outputs pool3 [N,2048], logits [N,1008] (fc with bias) and logits_unbiased (without).
    /// </summary>
    public static NetworkSpec FidInception()
    {
        var b = new Builder(InceptionBatchNormEps);
        string x = NetworkSpec.InputName;
        x = b.Basic(x, "Conv2d_1a_3x3", 3, 32, (3, 3), stride: 2);
        x = b.Basic(x, "Conv2d_2a_3x3", 32, 32, (3, 3));
        x = b.Basic(x, "Conv2d_2b_3x3", 32, 64, (3, 3), pad: (1, 1));
        x = b.Add(new MaxPoolLayer("maxpool1", x, 3, 2, 0));
        x = b.Basic(x, "Conv2d_3b_1x1", 64, 80, (1, 1));
        x = b.Basic(x, "Conv2d_4a_3x3", 80, 192, (3, 3));
        x = b.Add(new MaxPoolLayer("maxpool2", x, 3, 2, 0));
        x = b.InceptionA(x, "Mixed_5b", 192, 32);
        x = b.InceptionA(x, "Mixed_5c", 256, 64);
        x = b.InceptionA(x, "Mixed_5d", 288, 64);
        x = b.InceptionB(x, "Mixed_6a", 288);
        x = b.InceptionC(x, "Mixed_6b", 128);
        x = b.InceptionC(x, "Mixed_6c", 160);
        x = b.InceptionC(x, "Mixed_6d", 160);
        x = b.InceptionC(x, "Mixed_6e", 192);
        x = b.InceptionD(x, "Mixed_7a");
        x = b.InceptionE(x, "Mixed_7b", 1280, maxPool: false);
        x = b.InceptionE(x, "Mixed_7c", 2048, maxPool: true);
        b.Add(new GlobalAvgPoolLayer("pool3", x));
        b.Add(new LinearLayer("logits", "pool3", "fc", 2048, 1008, UseBias: true));
        b.Add(new LinearLayer("logits_unbiased", "pool3", "fc", 2048, 1008, UseBias: false));
        return new NetworkSpec("inception-v3-fid", 3, 299, 299, b.Layers,
            [new("pool3", 2048), new("logits", 1008), new("logits_unbiased", 1008)]);
    }

    /// <summary>
    /// torchvision VGG-16 (configuration D, no batch norm) up to the second fully connected layer. Outputs fc2
    /// [N,4096] before the ReLU (manifmetric, torch-fidelity `fc2`) and fc2_relu after it (NVIDIA vgg16.pt
    /// features, torch-fidelity `fc2_relu`). torchvision's AdaptiveAvgPool2d(7,7) is the identity for the
    /// fixed 224×224 input (the last feature map is already 7×7), so it is left out.
    /// </summary>
    public static NetworkSpec Vgg16()
    {
        var b = new Builder(0);
        string x = NetworkSpec.InputName;
        int[][] stages = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]];
        int index = 0, channels = 3;
        foreach (var stage in stages)
        {
            foreach (int width in stage)
            {
                x = b.Add(new ConvLayer($"features.{index + 1}", x, $"features.{index}", channels, width, (3, 3), (1, 1), (1, 1), HasBias: true, null, 0, Relu: true));
                channels = width;
                index += 2;
            }
            x = b.Add(new MaxPoolLayer($"features.{index}", x, 2, 2, 0));
            index++;
        }
        x = b.Add(new FlattenLayer("flatten", x));
        x = b.Add(new LinearLayer("fc1", x, "classifier.0", 512 * 7 * 7, 4096, UseBias: true));
        x = b.Add(new ReluLayer("fc1_relu", x));
        b.Add(new LinearLayer("fc2", x, "classifier.3", 4096, 4096, UseBias: true));
        b.Add(new ReluLayer("fc2_relu", "fc2"));
        return new NetworkSpec("vgg16", 3, 224, 224, b.Layers, [new("fc2", 4096), new("fc2_relu", 4096)]);
    }

    private sealed class Builder(double eps)
    {
        public List<Layer> Layers { get; } = [];

        public string Add(Layer layer)
        {
            Layers.Add(layer);
            return layer.Output;
        }

        /// <summary>torchvision's BasicConv2d: conv (no bias) + BN + ReLU, keys NAME.conv.weight and NAME.bn.*.</summary>
        public string Basic(string input, string name, int inC, int outC, (int, int) kernel, int stride = 1, (int, int) pad = default) =>
            Add(new ConvLayer(name, input, name + ".conv", inC, outC, kernel, (stride, stride), pad, HasBias: false, name + ".bn", eps, Relu: true));

        private string AvgPoolBranch(string input, string block, int inC, int outC)
        {
            string pooled = Add(new AvgPoolLayer(block + ".avg_pool", input, 3, 1, 1, CountIncludePad: false));
            return Basic(pooled, block + ".branch_pool", inC, outC, (1, 1));
        }

        public string InceptionA(string x, string n, int inC, int poolFeatures)
        {
            string b1 = Basic(x, n + ".branch1x1", inC, 64, (1, 1));
            string b5 = Basic(Basic(x, n + ".branch5x5_1", inC, 48, (1, 1)), n + ".branch5x5_2", 48, 64, (5, 5), pad: (2, 2));
            string d = Basic(x, n + ".branch3x3dbl_1", inC, 64, (1, 1));
            d = Basic(d, n + ".branch3x3dbl_2", 64, 96, (3, 3), pad: (1, 1));
            d = Basic(d, n + ".branch3x3dbl_3", 96, 96, (3, 3), pad: (1, 1));
            string p = AvgPoolBranch(x, n, inC, poolFeatures);
            return Add(new ConcatLayer(n, [b1, b5, d, p]));
        }

        public string InceptionB(string x, string n, int inC)
        {
            string b3 = Basic(x, n + ".branch3x3", inC, 384, (3, 3), stride: 2);
            string d = Basic(x, n + ".branch3x3dbl_1", inC, 64, (1, 1));
            d = Basic(d, n + ".branch3x3dbl_2", 64, 96, (3, 3), pad: (1, 1));
            d = Basic(d, n + ".branch3x3dbl_3", 96, 96, (3, 3), stride: 2);
            string p = Add(new MaxPoolLayer(n + ".max_pool", x, 3, 2, 0));
            return Add(new ConcatLayer(n, [b3, d, p]));
        }

        public string InceptionC(string x, string n, int c7)
        {
            string b1 = Basic(x, n + ".branch1x1", 768, 192, (1, 1));
            string b7 = Basic(x, n + ".branch7x7_1", 768, c7, (1, 1));
            b7 = Basic(b7, n + ".branch7x7_2", c7, c7, (1, 7), pad: (0, 3));
            b7 = Basic(b7, n + ".branch7x7_3", c7, 192, (7, 1), pad: (3, 0));
            string d = Basic(x, n + ".branch7x7dbl_1", 768, c7, (1, 1));
            d = Basic(d, n + ".branch7x7dbl_2", c7, c7, (7, 1), pad: (3, 0));
            d = Basic(d, n + ".branch7x7dbl_3", c7, c7, (1, 7), pad: (0, 3));
            d = Basic(d, n + ".branch7x7dbl_4", c7, c7, (7, 1), pad: (3, 0));
            d = Basic(d, n + ".branch7x7dbl_5", c7, 192, (1, 7), pad: (0, 3));
            string p = AvgPoolBranch(x, n, 768, 192);
            return Add(new ConcatLayer(n, [b1, b7, d, p]));
        }

        public string InceptionD(string x, string n)
        {
            string b3 = Basic(Basic(x, n + ".branch3x3_1", 768, 192, (1, 1)), n + ".branch3x3_2", 192, 320, (3, 3), stride: 2);
            string b7 = Basic(x, n + ".branch7x7x3_1", 768, 192, (1, 1));
            b7 = Basic(b7, n + ".branch7x7x3_2", 192, 192, (1, 7), pad: (0, 3));
            b7 = Basic(b7, n + ".branch7x7x3_3", 192, 192, (7, 1), pad: (3, 0));
            b7 = Basic(b7, n + ".branch7x7x3_4", 192, 192, (3, 3), stride: 2);
            string p = Add(new MaxPoolLayer(n + ".max_pool", x, 3, 2, 0));
            return Add(new ConcatLayer(n, [b3, b7, p]));
        }

        /// <summary>The two nested concats of InceptionE ([2a, 2b] and [3a, 3b]) flatten into one channel order.</summary>
        public string InceptionE(string x, string n, int inC, bool maxPool)
        {
            string b1 = Basic(x, n + ".branch1x1", inC, 320, (1, 1));
            string b3 = Basic(x, n + ".branch3x3_1", inC, 384, (1, 1));
            string b3a = Basic(b3, n + ".branch3x3_2a", 384, 384, (1, 3), pad: (0, 1));
            string b3b = Basic(b3, n + ".branch3x3_2b", 384, 384, (3, 1), pad: (1, 0));
            string d = Basic(x, n + ".branch3x3dbl_1", inC, 448, (1, 1));
            d = Basic(d, n + ".branch3x3dbl_2", 448, 384, (3, 3), pad: (1, 1));
            string da = Basic(d, n + ".branch3x3dbl_3a", 384, 384, (1, 3), pad: (0, 1));
            string db = Basic(d, n + ".branch3x3dbl_3b", 384, 384, (3, 1), pad: (1, 0));
            string p = maxPool
                ? Basic(Add(new MaxPoolLayer(n + ".max_pool", x, 3, 1, 1)), n + ".branch_pool", inC, 192, (1, 1))
                : AvgPoolBranch(x, n, inC, 192);
            return Add(new ConcatLayer(n, [b1, b3a, b3b, da, db, p]));
        }
    }
}
