import Foundation
import SeafoldCore
import XCTest
@testable import Datasets

final class FoldsFileTests: XCTestCase {
    let paths = ["a/1.png", "a/2.png", "a/3.png", "a/x,y.png", "b/1.png", "b/2.png", "b/3.png"]
    let labels = [0, 0, 0, 0, 1, 1, 1]
    let classes = ["a", "b"]

    func parse(_ text: String, k: Int = 3) throws -> (folds: [Int], warnings: [String]) {
        try FoldsFile.parse(text, file: "folds.csv", paths: paths, labels: labels, classes: classes, folds: k)
    }

    func testRoundTripInAnyRowOrder() throws {
        let folds = try StratifiedKFold(nSplits: 3, shuffle: true, seed: 5).testFolds(labels: labels).folds
        let text = FoldsFile.render(paths: paths, folds: folds)
        XCTAssertTrue(text.hasPrefix("path,fold\na/1.png,"))
        XCTAssertTrue(text.contains("\"a/x,y.png\","), text)
        XCTAssertEqual(try parse(text).folds, folds)
        // Rows reversed, CRLF line ends, blank lines: the same mapping.
        let lines = text.split(separator: "\n").map(String.init)
        let shuffled = ([lines[0]] + lines.dropFirst().reversed()).joined(separator: "\r\n") + "\r\n\r\n"
        XCTAssertEqual(try parse(shuffled).folds, folds)
    }

    func testErrorsNameFileLineAndFix() {
        let good = "path,fold\na/1.png,0\na/2.png,1\na/3.png,2\n\"a/x,y.png\",0\nb/1.png,0\nb/2.png,1\nb/3.png,2\n"
        XCTAssertNoThrow(try parse(good))
        assertThrowsMentioning("line 1: the first line must be the header") { _ = try parse("file,fold\n") }
        assertThrowsMentioning("line 3: 'a/9.png' is not an image of this dataset") {
            _ = try parse(good.replacingOccurrences(of: "a/2.png,1", with: "a/9.png,1"))
        }
        assertThrowsMentioning("line 4: fold '3' of 'a/3.png' is not an integer in 0...2") {
            _ = try parse(good.replacingOccurrences(of: "a/3.png,2", with: "a/3.png,3"))
        }
        assertThrowsMentioning("fold 'one'") { _ = try parse(good.replacingOccurrences(of: "a/3.png,2", with: "a/3.png,one")) }
        assertThrowsMentioning("line 9: 'b/1.png' appears a second time") { _ = try parse(good + "b/1.png,1\n") }
        assertThrowsMentioning("1 image(s) of the dataset have no fold, e.g. 'b/3.png'") {
            _ = try parse(good.replacingOccurrences(of: "b/3.png,2\n", with: ""))
        }
        assertThrowsMentioning("class 'b' is missing from the test part of fold 2") {
            _ = try parse(good.replacingOccurrences(of: "b/3.png,2", with: "b/3.png,1"))
        }
        assertThrowsMentioning("expected two fields") { _ = try parse(good + "b/1.png,1,7\n") }
        assertThrowsMentioning("folds.csv") { _ = try parse("") }
    }

    func testClassSmallerThanFoldsWarns() throws {
        // Class b has 3 images, 4 folds: one fold cannot test b (scikit-learn warns likewise).
        let text = "path,fold\na/1.png,0\na/2.png,1\na/3.png,2\na/x,y.png,3\nb/1.png,0\nb/2.png,1\nb/3.png,2\n"
        // an unquoted comma makes three fields: an error naming the line
        assertThrowsMentioning("line 5") { _ = try parse(text, k: 4) }
        let fixed = text.replacingOccurrences(of: "a/x,y.png,3", with: "\"a/x,y.png\",3")
        let r = try parse(fixed, k: 4)
        XCTAssertEqual(r.folds, [0, 1, 2, 3, 0, 1, 2])
        XCTAssertEqual(r.warnings.count, 1)
        XCTAssertTrue(r.warnings[0].contains("fold 3"), r.warnings[0])
    }
}
