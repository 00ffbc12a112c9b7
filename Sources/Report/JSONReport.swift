import Foundation
import Pipeline

/// `results.json`: everything the report knows — the aggregated tables (with their marks as
/// `marked` flags and gaps with reasons), the paired tests, the raw `RunResults`, the config
/// and the software version. Keys are sorted so a rerun is byte-identical.
public struct JSONReport: Codable, Equatable, Sendable {
    /// Bumped when this document's shape changes.
    public static let currentFormat = 1
    public var format: Int
    public var softwareVersion: String
    public var configYAML: String
    public var ddof: Int
    public var columns: [String]
    public var minorityClass: String
    public var aggregate: Aggregate
    public var pairedTestCaveat: String
    public var results: RunResults

    public init(_ results: RunResults, aggregate: Aggregate) {
        format = JSONReport.currentFormat
        softwareVersion = results.softwareVersion
        configYAML = results.configYAML
        ddof = results.ddof
        columns = aggregate.columns
        minorityClass = results.minorityClass
        self.aggregate = aggregate
        pairedTestCaveat = TableGrids.pairedCaveat(aggregate)
        self.results = results
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        // A NaN or infinity in a result must not make the whole report fail.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }
}
