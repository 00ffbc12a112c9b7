import Explain
import Foundation

/// Wall-clock seconds of LIME's stages in one `LimeImageExplainer.explain`, from the
/// `LimeStage`s it reports: each stage gets the time since the previous report.
final class LimeTimer {
    private(set) var segmentation = 0.0
    private(set) var perturbation = 0.0
    private(set) var model = 0.0
    private(set) var regression = 0.0
    /// LIME's own work: everything but the classifier.
    var outsideModel: Double { segmentation + perturbation + regression }
    private var last: UInt64 = 0

    func observe(_ stage: LimeStage) {
        let now = DispatchTime.now().uptimeNanoseconds
        let lap = Double(now &- last) / 1e9
        last = now
        switch stage {
        case .started: break
        case .segmentation: segmentation += lap
        case .perturbation: perturbation += lap
        case .model: model += lap
        case .regression: regression += lap
        }
    }
}
