import Foundation
import Pipeline

/// The caption text of one LIME figure: which image, which class each model's explanation is
/// for (by name, and whether it is that model's top prediction or the true class), and the
/// segmenter with its parameters. The figure shows image | Base | FT; green = superpixels
/// supporting the explained class, red = against it.
public enum LimeCaption {
    /// "fold 1 of multi-site/balanced, test image 12 (true class 'crater'). Base: top prediction
    /// 'crater' (p=0.612); FT: top prediction 'sand ripple' (p=0.480). Superpixels: quickshift(…)."
    public static func text(_ e: ExplainedImage) -> String {
        func name(_ k: Int) -> String {
            if let names = e.classNames, k >= 0, k < names.count { return "'\(names[k])'" }
            return "class \(k)"
        }
        var s = "\(e.shard.column) fold \(e.shard.fold + 1), test image \(e.imageIndex) (true class \(name(e.trueClass)))."
        let parts = e.scores.map { sc -> String in
            let how: String
            switch sc.explainedBy {
            case "top_prediction": how = "explains its top prediction"
            case "true_class": how = "explains the true class"
            default: how = "explains"  // results from before the option recorded it
            }
            return "\(sc.model.rawValue) \(how) \(name(sc.explainedClass)) (p=\(NumberFormat.fixed(sc.probability, 3)))"
        }
        if !parts.isEmpty { s += " " + parts.joined(separator: "; ") + "." }
        if let seg = e.segmenter { s += " Superpixels: \(seg)." }
        for w in e.segmenterWarnings ?? [] { s += " \(w)." }
        return s
    }
}
