import XCTest

/// max |a[i] − b[i]| over two equally long arrays (a length mismatch fails the test): the
/// worst element-wise difference, for comparisons with an absolute tolerance.
public func maxAbsDifference(_ a: [Float], _ b: [Float], file: StaticString = #filePath, line: UInt = #line) -> Float {
    XCTAssertEqual(a.count, b.count, "arrays of different lengths", file: file, line: line)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
