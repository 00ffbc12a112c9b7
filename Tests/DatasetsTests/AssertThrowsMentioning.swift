import Foundation
import XCTest

func assertThrowsMentioning(_ text: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected an error mentioning '\(text)'", file: file, line: line)
    } catch {
        XCTAssertTrue("\(error)".contains(text), "error '\(error)' does not mention '\(text)'", file: file, line: line)
    }
}
