import XCTest
@testable import Datasets

final class PreprocessorTests: XCTestCase {
    func testIdentityResizeReplicatesGreyAndNormalises() {
        let img = Image(width: 2, height: 2, channels: 1, pixels: [0, 0.25, 0.5, 1])
        let out = Preprocessor(inputSize: 2).tensorData(img)
        XCTAssertEqual(out.count, 12)
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        for c in 0..<3 {
            for i in 0..<4 { XCTAssertEqual(out[c * 4 + i], (img.pixels[i] - mean[c]) / std[c], accuracy: 1e-6) }
        }
    }

    func testRGBChannelsStayApartInCHW() {
        // One pixel, RGB (0.1, 0.5, 0.9), identity size.
        let out = Preprocessor(inputSize: 1).tensorData(Image(width: 1, height: 1, channels: 3, pixels: [0.1, 0.5, 0.9]))
        XCTAssertEqual(out[0], (0.1 - 0.485) / 0.229, accuracy: 1e-6)
        XCTAssertEqual(out[1], (0.5 - 0.456) / 0.224, accuracy: 1e-6)
        XCTAssertEqual(out[2], (0.9 - 0.406) / 0.225, accuracy: 1e-6)
    }

    func testAntialiasedHalvingOfARamp() {
        // PIL rule for 4 → 2: scale 2, support 2, triangle filter t/2.
        // Output 0: centre 1.0, inputs 0,1,2 with weights 0.75,0.75,0.25 (÷1.75) → (0·3+1·3+2·1)/7 = 5/7.
        // Output 1: centre 3.0, inputs 1,2,3 with weights 0.25,0.75,0.75 → (1+6+9)/7 = 16/7.
        let ramp: [Float] = (0..<4).flatMap { _ in [0, 1, 2, 3] as [Float] }  // 4×4, constant down columns
        let r = Resampler.resize(ramp, width: 4, height: 4, channels: 1, stride: 1, offset: 0, toWidth: 2, toHeight: 2)
        XCTAssertEqual(r[0], 5.0 / 7.0, accuracy: 1e-6)
        XCTAssertEqual(r[1], 16.0 / 7.0, accuracy: 1e-6)
        XCTAssertEqual(r[2], 5.0 / 7.0, accuracy: 1e-6)
        XCTAssertEqual(r[3], 16.0 / 7.0, accuracy: 1e-6)
    }

    func testConstantStaysConstantWhenShrinkingByOddFactors() {
        let c = [Float](repeating: 0.3, count: 37 * 23)
        let r = Resampler.resize(c, width: 37, height: 23, channels: 1, stride: 1, offset: 0, toWidth: 5, toHeight: 7)
        for v in r { XCTAssertEqual(v, 0.3, accuracy: 1e-6) }
    }

    func testUpscaleIsHalfPixelBilinear() {
        // 2 → 4: centres 0.25, 0.75, 1.25, 1.75 → [x0, ¼x1+¾x0, ¾x1+¼x0, x1].
        let r = Resampler.resize([0, 1], width: 2, height: 1, channels: 1, stride: 1, offset: 0, toWidth: 4, toHeight: 1)
        XCTAssertEqual(r, [0, 0.25, 0.75, 1])
    }
}

final class PreprocessorRobustnessTests: XCTestCase {
    func testMalformedImagesDoNotCrash() {
        let p = Preprocessor(inputSize: 4)
        XCTAssertEqual(p.tensorData(Image(width: 0, height: 0, channels: 1, pixels: [])).count, 48)
        XCTAssertEqual(p.tensorData(Image(width: 2, height: 2, channels: 3, pixels: [1])).count, 48)
        // Two channels: channel 0 is used as grey.
        let two = p.tensorData(Image(width: 1, height: 1, channels: 2, pixels: [0.485, 0.9]))
        XCTAssertEqual(two[0], 0, accuracy: 1e-6)
    }

    func testResizedForExplanationsIsRGBInUnitRange() {
        let r = Preprocessor(inputSize: 3).resized(Image(width: 6, height: 6, fill: 0.5))
        XCTAssertEqual(r.channels, 3); XCTAssertEqual(r.width, 3)
        for v in r.pixels { XCTAssertEqual(v, 0.5, accuracy: 1e-6) }
    }
}
