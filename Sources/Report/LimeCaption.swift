import Foundation
import Pipeline

/// The words around a LIME figure (the paper's Figure 3): class names instead of indices, the
/// explained class with each model's probability, the segmenter that made the superpixels, and
/// what the colours mean (lime's `get_image_and_mask` drawn by `ExplanationFigure`).
enum LimeCaption {
    /// The class names of a dataset, from its heads' results or its fold distribution.
    static func classNames(_ r: RunResults, dataset: String) -> [String] {
        if let h = r.heads.first(where: { $0.shard.dataset == dataset && !$0.classes.isEmpty }) { return h.classes }
        return r.foldDistributions.first { $0.dataset == dataset }?.classes ?? []
    }

    /// "crater (class 0)"; an index the dataset does not have is said to be unknown.
    static func className(_ index: Int, _ classes: [String]) -> String {
        index >= 0 && index < classes.count ? classes[index] : "class \(index) (name unknown)"
    }

    /// The run's LIME settings as planned; nil when the results do not carry them.
    static func settings(_ r: RunResults) -> LimeConfig? { r.lime }

    /// "quickshift (kernel_size 4, max_dist 200, ratio 0.2)", and the SLIC fallback the explain
    /// task uses when quickshift gives fewer than 8 superpixels.
    static func segmenter(_ lime: LimeConfig?) -> String {
        guard let lime else { return "segmenter: as configured (the run's config could not be read)" }
        let slic = "SLIC (n_segments \(lime.slicSegments), compactness \(SVGCharts.label(lime.slicCompactness)))"
        if lime.segmentation == "slic" { return "segmenter: \(slic)" }
        return "segmenter: quickshift (kernel_size \(SVGCharts.label(lime.kernelSize)), max_dist \(SVGCharts.label(lime.maxDist)), "
            + "ratio \(SVGCharts.label(lime.ratio))); \(slic) where quickshift gives fewer than 8 superpixels"
    }

    /// How a model's explained class was chosen, from what the explain task recorded (results
    /// from before the option recorded it say nothing).
    static func choice(_ sc: ExplanationScore) -> String? {
        switch sc.explainedBy {
        case "top_prediction": return "its top prediction"
        case "true_class": return "the true class"
        default: return nil
        }
    }

    /// The caption of one explained image. Class names and the segmenter come from what the
    /// explain task recorded when present (the segmenter actually used, with any fallback),
    /// else from the dataset's class list and the run's config.
    static func text(_ e: ExplainedImage, classes: [String], lime: LimeConfig?) -> String {
        let names = e.classNames ?? classes
        var s = "\(e.shard), image \(e.imageIndex): true class \(className(e.trueClass, names))."
        let explained = Set(e.scores.map(\.explainedClass))
        let choices = Set(e.scores.map { choice($0) ?? "" })
        if explained.count == 1, choices.count == 1, let c = explained.first {
            let probs = e.scores.map { "\($0.model.rawValue) p=\(NumberFormat.fixed($0.probability, 3))" }.joined(separator: ", ")
            let how = e.scores.first.flatMap(choice).map { ", \($0 == "its top prediction" ? "each model's top prediction" : $0)" } ?? ""
            s += " Explained class: \(className(c, names))\(how) (\(probs))."
        } else {
            for sc in e.scores {
                let how = choice(sc).map { "\($0) " } ?? ""
                s += " \(sc.model.rawValue) explains \(how)\(className(sc.explainedClass, names)) (p=\(NumberFormat.fixed(sc.probability, 3)))."
            }
        }
        let segs = e.scores.first.map { "; \($0.segments) superpixels" } ?? ""
        if let used = e.segmenter {
            s += " Segmenter: \(used)\(segs)."
            for w in e.segmenterWarnings ?? [] { s += " \(w)." }
        } else {
            let configured = segmenter(lime)
            s += " \(configured.prefix(1).uppercased())\(configured.dropFirst())\(segs)."
        }
        let scores = e.scores.map { sc in
            var parts: [String] = []
            if let v = sc.stability { parts.append("stability \(NumberFormat.fixed(v, 3))") }
            if let v = sc.deletionAUC { parts.append("deletion AUC \(NumberFormat.fixed(v, 3))") }
            if let v = sc.pointing { parts.append("pointing \(NumberFormat.fixed(v, 3))") }
            parts.append("local R² \(NumberFormat.fixed(sc.localR2, 3))")
            return "\(sc.model.rawValue): " + parts.joined(separator: ", ")
        }.joined(separator: "; ")
        if !scores.isEmpty { s += " Scores: \(scores)." }
        return s
    }

    /// The colour key, as plain text (for the SVG figure files and alt text).
    static func legendText(topK: Int) -> String {
        "Panels: image | Base | FT. Green: the top \(topK) superpixels for the explained class; red: the top \(topK) against it; "
            + "yellow outline: the border of the top \(topK) for it."
    }

    /// The colour key with swatches, for the HTML report.
    static func legendHTML(topK: Int) -> String {
        func sw(_ color: String, _ border: String? = nil) -> String {
            "<span class=\"swatch\" style=\"background:\(color)\(border.map { ";border:2px solid \($0)" } ?? "")\"></span>"
        }
        return "<p class=\"limelegend\">Panels: image | Base | FT. \(sw("rgba(0,255,0,0.6)")) top \(topK) superpixels for the explained class · "
            + "\(sw("rgba(255,0,0,0.6)")) top \(topK) against it · \(sw("transparent", "#ffff00")) border of the top \(topK) for it</p>"
    }
}
