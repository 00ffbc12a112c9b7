import CKernels

/// The forward pass of one `Conv2d` geometry by implicit GEMM (CKernels' conv_implicit.c): the
/// same sums as im2col + sgemm (PyTorch `nn.Conv2d` semantics, bias added last) without
/// writing the column matrix. Work items are (sample, group of output rows), run with
/// `parallelFor`; each output element is computed by one item in a fixed tap order, so the
/// result does not depend on the thread count (it does on the instruction set, like OpenBLAS).
final class ImplicitConvForward {
    private var geometry: seafold_conv_geometry
    private let kdim: Int, cout: Int
    /// The weight repacked into [64-channel block][tap][64], redone whenever the weight differs
    /// from the one it came from (`FilterCache`; 93 KB for AlexNet's features.0).
    private let packed = FilterCache()

    /// Where implicit GEMM is used (Winograd's stride-1 3×3 and 5×5 layers are decided first,
    /// in Conv2d): a multiple of 64 output channels (the tile width; other counts would compute
    /// zero-padded channels) and K = Cin·k² ≤ 2048 taps, so one 64-channel block of the packed
    /// weight (K·64 floats, ≤ 512 KB) stays in L2 while the register tiles stream it. There the
    /// tile runs close to the FMA peak, above im2col + OpenBLAS, which also pays for building
    /// and packing the K × batch·pixels column matrix. AlexNet: features.0 (K 363); features.3
    /// (K 1600) would qualify but goes to Winograd F(3×3, 5×5), which is faster again
    /// (`seafold bench conv`; BENCHMARKS.md). Only on CPUs with AVX2+FMA or AVX-512F: the plain
    /// C variant runs below OpenBLAS.
    static func applies(inChannels: Int, outChannels: Int, kernel: Int) -> Bool {
        inChannels * kernel * kernel <= 2048 && outChannels % 64 == 0 && seafold_conv_implicit_vectorized() != 0
    }

    /// `rowsPerItem` overrides the work split (tests: the result must not depend on it).
    init(inChannels: Int, inH: Int, inW: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, outH: Int, outW: Int,
         rowsPerItem: Int? = nil) {
        // About 256 output pixels per item (enough work to hide the band copy), but at least
        // 4 items per sample so that a batch of 1 still splits evenly over 2 threads:
        // features.0 5 rows of 55 (11 items), features.3 7 rows of 27 (4 items).
        let rows = max(1, min(outH, rowsPerItem ?? min((256 + outW - 1) / outW, (outH + 3) / 4)))
        geometry = seafold_conv_geometry(cin: inChannels, h: inH, w: inW, cout: outChannels, k: kernel,
                                         stride: stride, pad: padding, oh: outH, ow: outW, rows_per_item: rows)
        kdim = inChannels * kernel * kernel
        cout = outChannels
    }

    /// y[batch, Cout, oh, ow] = conv(x, weight) + bias.
    func run(_ x: UnsafePointer<Float>, batch: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
             y: UnsafeMutablePointer<Float>) {
        let (cout, kdim) = (self.cout, self.kdim)
        let w = packed.filters(weights: weight, count: cout * kdim, tag: 0,
                               uFloats: seafold_conv_implicit_packed_floats(cout, kdim)) {
            seafold_conv_implicit_pack(weight, cout, kdim, $0)
        }
        let items = seafold_conv_implicit_items(&geometry, batch)
        withUnsafePointer(to: geometry) { g in
            parallelFor(items) { i in
                if seafold_conv_implicit_forward(x, w, bias, y, g, i, i + 1) != 0 {
                    fatalError("Conv2d implicit GEMM: out of memory for its input band")
                }
            }
        }
    }
}
