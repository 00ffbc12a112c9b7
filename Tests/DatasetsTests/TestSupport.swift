import Foundation
import XCTest

/// A fresh temporary directory removed at the end of the test.
func makeTempDir(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("seafold-ds-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

func assertThrowsMentioning(_ text: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected an error mentioning '\(text)'", file: file, line: line)
    } catch {
        XCTAssertTrue("\(error)".contains(text), "error '\(error)' does not mention '\(text)'", file: file, line: line)
    }
}
