import XCTest
import Pipeline
@testable import Report

// Golden-file tests: the Markdown, CSV and LaTeX of `GoldenFixture`, byte for byte. The strings
// were printed once and every number checked by hand against the fixture:
//   SVM FT 0.8, 0.9 → 85.00±5.00% (ddof 0); Base 0.7, 0.6 → 65.00±5.00%;
//   KNN FT 0.5 with fold 2 failed → 50.00±0.00% (1/2); KNN Base, FC → "—" with reasons;
//   crater precision FT SVM 0.5, 0.25 → 37.50±12.50% (bold, > Base 0.125, 0.375 → 25.00±12.50%);
//   recall FT SVM 1.0, 0.5 → 75.00±25.00% (bold) vs Base 50.00±0.00%;
//   conv1 KL 0.1, 0.3 → 0.200±0.100 ties fc1 KL 0.2, 0.2 → 0.200±0.000 (both bold);
//   ED conv1 1, 2 → 1.500±0.500, fc1 3, 5 → 4.000±1.000 (bold); other layers "—";
//   paired SVM d = 0.1, 0.3 → t = 0.2/(0.1414/√2) = 2.000, df 1, p = 1 − (2/π)·atan 2 = 0.2952;
//   two-sided 5% critical t for df 1 = 12.71 (tables);
//   Table 3's caption names the fixture's conventions: 10 bins, ε = 1e-10 on probabilities, no biases.
final class GoldenTests: XCTestCase {
    let a = Aggregate(GoldenFixture.results())

    func check(_ actual: String, _ expected: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        if actual != expected {
            let al = actual.components(separatedBy: "\n"), el = expected.components(separatedBy: "\n")
            let i = (0..<min(al.count, el.count)).first { al[$0] != el[$0] } ?? min(al.count, el.count)
            XCTFail("\(name) differs at line \(i + 1):\n got: \(i < al.count ? al[i] : "<end>")\nwant: \(i < el.count ? el[i] : "<end>")",
                    file: file, line: line)
        }
    }

    func testTable1Markdown() { check(MarkdownTables.grid(TableGrids.table1(a)), Golden.table1Markdown, "t1.md") }
    func testTable2Markdown() { check(MarkdownTables.grid(TableGrids.table2(a)), Golden.table2Markdown, "t2.md") }
    func testTable3Markdown() { check(MarkdownTables.grid(TableGrids.table3(a)), Golden.table3Markdown, "t3.md") }
    func testPairedMarkdown() { check(MarkdownTables.grid(TableGrids.paired(a)), Golden.pairedMarkdown, "paired.md") }
    func testTable1CSV() { check(CSVTables.table1(a), Golden.table1CSV, "t1.csv") }
    func testTable2CSV() { check(CSVTables.table2(a), Golden.table2CSV, "t2.csv") }
    func testTable3CSV() { check(CSVTables.table3(a), Golden.table3CSV, "t3.csv") }
    func testTable1LaTeX() { check(LaTeXTables.grid(TableGrids.table1(a)), Golden.table1LaTeX, "t1.tex") }
    func testTable2LaTeX() { check(LaTeXTables.grid(TableGrids.table2(a)), Golden.table2LaTeX, "t2.tex") }
    func testTable3LaTeX() { check(LaTeXTables.grid(TableGrids.table3(a)), Golden.table3LaTeX, "t3.tex") }
}

/// Expected outputs (see the derivations above).
enum Golden {
static let table1Markdown = #"""
## Table 1: Test accuracy of the fine-tuned (FT) and baseline (Base) models

_mean ± std over 2 folds per column; std with ddof=0 (numpy np.std, ddof=0 is the population std). "—" = no fold has a result; "(k/n)" = only k of n folds have results (missing folds are left out, never counted as zero)._

**SVM**

|  | ms/balanced |
|---|---:|
| FT | 85.00±5.00% |
| Base | 65.00±5.00% |

**KNN**

|  | ms/balanced |
|---|---:|
| FT | 50.00±0.00% (1/2) |
| Base | — |

**Fully Connected**

|  | ms/balanced |
|---|---:|
| FT | — |
| Base | — |

Gaps:

- KNN FT ms/balanced: 1 of 2 folds — fold 2: heads FT knn: failed: boom
- KNN Base ms/balanced: no folds — fold 1: no result recorded; fold 2: no result recorded
- Fully Connected FT ms/balanced: no folds — fold 1: no result recorded; fold 2: no result recorded
- Fully Connected Base ms/balanced: no folds — fold 1: no result recorded; fold 2: no result recorded


"""#

static let table2Markdown = #"""
## Table 2: Precision and recall of the minority class 'crater' (best per classifier and dataset in bold)

_mean ± std over 2 folds per column; std with ddof=0 (numpy np.std, ddof=0 is the population std). "—" = no fold has a result; "(k/n)" = only k of n folds have results (missing folds are left out, never counted as zero)._

| Model | Column | Precision KNN | Precision SVM | Precision FC | Recall KNN | Recall SVM | Recall FC |
|---|---|---:|---:|---:|---:|---:|---:|
| Base | ms/balanced | — | 25.00±12.50% | — | — | 50.00±0.00% | — |
| FT | ms/balanced | **20.00±0.00% (1/2)** | **37.50±12.50%** | — | **10.00±0.00% (1/2)** | **75.00±25.00%** | — |

Gaps:

- precision KNN Base ms/balanced: no folds — fold 1: no result recorded; fold 2: no result recorded
- precision FC Base ms/balanced: no folds — fold 1: no result recorded; fold 2: no result recorded
- recall KNN Base ms/balanced: no folds — fold 1: no result recorded; fold 2: no result recorded
- recall FC Base ms/balanced: no folds — fold 1: no result recorded; fold 2: no result recorded
- precision KNN FT ms/balanced: 1 of 2 folds — fold 2: heads FT knn: failed: boom
- precision FC FT ms/balanced: no folds — fold 1: no result recorded; fold 2: no result recorded
- recall KNN FT ms/balanced: 1 of 2 folds — fold 2: heads FT knn: failed: boom
- recall FC FT ms/balanced: no folds — fold 1: no result recorded; fold 2: no result recorded


"""#

static let table3Markdown = #"""
## Table 3: KL divergence D\_KL(FT||Base) and Euclidean distance D\_ED per layer (largest per column in bold). Histograms of the weights only (no biases): 10 equal-width bins over the joint min…max of FT and pretrained values (numpy.histogram edges); ε = 1e-10 added to each bin's probability of both histograms, then renormalised; natural log.

_mean ± std over 2 folds per column; std with ddof=0 (numpy np.std, ddof=0 is the population std). "—" = no fold has a result; "(k/n)" = only k of n folds have results (missing folds are left out, never counted as zero)._

| Layer | D\_KL(FT\|\|Base) ms/balanced | D\_ED ms/balanced |
|---|---:|---:|
| 1st Conv. | **0.200±0.100** | 1.500±0.500 |
| 2nd Conv. | — | — |
| 3rd Conv. | — | — |
| 4th Conv. | — | — |
| 5th Conv. | — | — |
| 1st FC | **0.200±0.000** | **4.000±1.000** |
| 2nd FC | — | — |

Gaps:

- ms/balanced (KL 2nd Conv., KL 3rd Conv., KL 4th Conv., KL 5th Conv., KL 2nd FC, ED 2nd Conv., ED 3rd Conv., ED 4th Conv., ED 5th Conv., ED 2nd FC): no folds — fold 1: layer not in this fold's divergence result; fold 2: layer not in this fold's divergence result


"""#

static let pairedMarkdown = #"""
## FT vs Base: paired t-test on per-fold test accuracy

_With only 2 folds (df = 1) a paired t-test can show very little: p \< 0.05 needs |t| \> 12.71, i.e. a large and very consistent difference, and because the folds share training data the p-values are optimistic. A non-significant p here is not evidence of no difference. For significance, run more folds or repeated cross-validation (repeats: N in the experiment config; the report then adds the corrected resampled t-test over repeats × folds); the sign count says in how many folds FT beat Base._

| Column | Head | n | mean FT−Base | t | df | p (two-sided) | FT \> Base |
|---|---|---:|---:|---:|---:|---:|---:|
| ms/balanced | SVM | 2 | +20.00 pp | 2.000 | 1 | 0.2952 | 2 of 2 |
| ms/balanced | KNN | 0 | — | — | — | — | 0 of 0 |
| ms/balanced | FC | 0 | — | — | — | — | 0 of 0 |

Gaps:

- ms/balanced KNN: no fold has both FT and Base
- ms/balanced FC: no fold has both FT and Base


"""#

static let table1CSV = #"""
table,dataset,variant,fold,model,head,class,layer,metric,value,note
table1,ms,balanced,1,FT,svm,,,accuracy,0.8,
table1,ms,balanced,2,FT,svm,,,accuracy,0.9,
table1,ms,balanced,1,Base,svm,,,accuracy,0.7,
table1,ms,balanced,2,Base,svm,,,accuracy,0.6,
table1,ms,balanced,1,FT,knn,,,accuracy,0.5,
table1,ms,balanced,2,FT,knn,,,accuracy,,missing: heads FT knn: failed: boom
table1,ms,balanced,1,Base,knn,,,accuracy,,missing: no result recorded
table1,ms,balanced,2,Base,knn,,,accuracy,,missing: no result recorded
table1,ms,balanced,1,FT,fc,,,accuracy,,missing: no result recorded
table1,ms,balanced,2,FT,fc,,,accuracy,,missing: no result recorded
table1,ms,balanced,1,Base,fc,,,accuracy,,missing: no result recorded
table1,ms,balanced,2,Base,fc,,,accuracy,,missing: no result recorded

"""#

static let table2CSV = #"""
table,dataset,variant,fold,model,head,class,layer,metric,value,note
table2,ms,balanced,1,FT,svm,crater,,precision,0.5,
table2,ms,balanced,2,FT,svm,crater,,precision,0.25,
table2,ms,balanced,1,FT,svm,crater,,recall,1.0,
table2,ms,balanced,2,FT,svm,crater,,recall,0.5,
table2,ms,balanced,1,Base,svm,crater,,precision,0.125,
table2,ms,balanced,2,Base,svm,crater,,precision,0.375,
table2,ms,balanced,1,Base,svm,crater,,recall,0.5,
table2,ms,balanced,2,Base,svm,crater,,recall,0.5,
table2,ms,balanced,1,FT,knn,crater,,precision,0.2,
table2,ms,balanced,2,FT,knn,crater,,precision,,missing: heads FT knn: failed: boom
table2,ms,balanced,1,FT,knn,crater,,recall,0.1,
table2,ms,balanced,2,FT,knn,crater,,recall,,missing: heads FT knn: failed: boom
table2,ms,balanced,1,Base,knn,crater,,precision,,missing: no result recorded
table2,ms,balanced,2,Base,knn,crater,,precision,,missing: no result recorded
table2,ms,balanced,1,Base,knn,crater,,recall,,missing: no result recorded
table2,ms,balanced,2,Base,knn,crater,,recall,,missing: no result recorded
table2,ms,balanced,1,FT,fc,crater,,precision,,missing: no result recorded
table2,ms,balanced,2,FT,fc,crater,,precision,,missing: no result recorded
table2,ms,balanced,1,FT,fc,crater,,recall,,missing: no result recorded
table2,ms,balanced,2,FT,fc,crater,,recall,,missing: no result recorded
table2,ms,balanced,1,Base,fc,crater,,precision,,missing: no result recorded
table2,ms,balanced,2,Base,fc,crater,,precision,,missing: no result recorded
table2,ms,balanced,1,Base,fc,crater,,recall,,missing: no result recorded
table2,ms,balanced,2,Base,fc,crater,,recall,,missing: no result recorded

"""#

static let table3CSV = #"""
table,dataset,variant,fold,model,head,class,layer,metric,value,note
table3,ms,balanced,1,,,,conv1,kl,0.1,
table3,ms,balanced,2,,,,conv1,kl,0.3,
table3,ms,balanced,1,,,,conv2,kl,,missing: layer not in this fold's divergence result
table3,ms,balanced,2,,,,conv2,kl,,missing: layer not in this fold's divergence result
table3,ms,balanced,1,,,,conv3,kl,,missing: layer not in this fold's divergence result
table3,ms,balanced,2,,,,conv3,kl,,missing: layer not in this fold's divergence result
table3,ms,balanced,1,,,,conv4,kl,,missing: layer not in this fold's divergence result
table3,ms,balanced,2,,,,conv4,kl,,missing: layer not in this fold's divergence result
table3,ms,balanced,1,,,,conv5,kl,,missing: layer not in this fold's divergence result
table3,ms,balanced,2,,,,conv5,kl,,missing: layer not in this fold's divergence result
table3,ms,balanced,1,,,,fc1,kl,0.2,
table3,ms,balanced,2,,,,fc1,kl,0.2,
table3,ms,balanced,1,,,,fc2,kl,,missing: layer not in this fold's divergence result
table3,ms,balanced,2,,,,fc2,kl,,missing: layer not in this fold's divergence result
table3,ms,balanced,1,,,,conv1,euclidean,1.0,
table3,ms,balanced,2,,,,conv1,euclidean,2.0,
table3,ms,balanced,1,,,,conv2,euclidean,,missing: layer not in this fold's divergence result
table3,ms,balanced,2,,,,conv2,euclidean,,missing: layer not in this fold's divergence result
table3,ms,balanced,1,,,,conv3,euclidean,,missing: layer not in this fold's divergence result
table3,ms,balanced,2,,,,conv3,euclidean,,missing: layer not in this fold's divergence result
table3,ms,balanced,1,,,,conv4,euclidean,,missing: layer not in this fold's divergence result
table3,ms,balanced,2,,,,conv4,euclidean,,missing: layer not in this fold's divergence result
table3,ms,balanced,1,,,,conv5,euclidean,,missing: layer not in this fold's divergence result
table3,ms,balanced,2,,,,conv5,euclidean,,missing: layer not in this fold's divergence result
table3,ms,balanced,1,,,,fc1,euclidean,3.0,
table3,ms,balanced,2,,,,fc1,euclidean,5.0,
table3,ms,balanced,1,,,,fc2,euclidean,,missing: layer not in this fold's divergence result
table3,ms,balanced,2,,,,fc2,euclidean,,missing: layer not in this fold's divergence result

"""#

static let table1LaTeX = #"""
% Table 1: Test accuracy of the fine-tuned (FT) and baseline (Base) models
% mean ± std over 2 folds per column; std with ddof=0 (numpy np.std, ddof=0 is the population std). "—" = no fold has a result; "(k/n)" = only k of n folds have results (missing folds are left out, never counted as zero).
\begin{table}[t]
\centering
\caption{Test accuracy of the fine-tuned (FT) and baseline (Base) models}
\label{tab:seafold-table1}
\begin{tabular}{lr}
\toprule
 & ms/balanced \\
\midrule
\multicolumn{2}{l}{\textit{SVM}} \\
FT & 85.00$\pm$5.00\% \\
Base & 65.00$\pm$5.00\% \\
\midrule
\multicolumn{2}{l}{\textit{KNN}} \\
FT & 50.00$\pm$0.00\% (1/2) \\
Base & --- \\
\midrule
\multicolumn{2}{l}{\textit{Fully Connected}} \\
FT & --- \\
Base & --- \\
\bottomrule
\end{tabular}

\smallskip
{\footnotesize mean $\pm$ std over 2 folds per column; std with ddof=0 (numpy np.std, ddof=0 is the population std). "---" = no fold has a result; "(k/n)" = only k of n folds have results (missing folds are left out, never counted as zero).}
\end{table}

"""#

static let table2LaTeX = #"""
% Table 2: Precision and recall of the minority class 'crater' (best per classifier and dataset in bold)
% mean ± std over 2 folds per column; std with ddof=0 (numpy np.std, ddof=0 is the population std). "—" = no fold has a result; "(k/n)" = only k of n folds have results (missing folds are left out, never counted as zero).
\begin{table}[t]
\centering
\caption{Precision and recall of the minority class 'crater' (best per classifier and dataset in bold)}
\label{tab:seafold-table2}
\begin{tabular}{llrrrrrr}
\toprule
\multicolumn{2}{c}{} & \multicolumn{3}{c}{Precision} & \multicolumn{3}{c}{Recall} \\
\cmidrule(lr){3-5} \cmidrule(lr){6-8}
Model & Column & KNN & SVM & FC & KNN & SVM & FC \\
\midrule
Base & ms/balanced & --- & 25.00$\pm$12.50\% & --- & --- & 50.00$\pm$0.00\% & --- \\
FT & ms/balanced & \textbf{20.00$\pm$0.00\% (1/2)} & \textbf{37.50$\pm$12.50\%} & --- & \textbf{10.00$\pm$0.00\% (1/2)} & \textbf{75.00$\pm$25.00\%} & --- \\
\bottomrule
\end{tabular}

\smallskip
{\footnotesize mean $\pm$ std over 2 folds per column; std with ddof=0 (numpy np.std, ddof=0 is the population std). "---" = no fold has a result; "(k/n)" = only k of n folds have results (missing folds are left out, never counted as zero).}
\end{table}

"""#

static let table3LaTeX = #"""
% Table 3: KL divergence D_KL(FT||Base) and Euclidean distance D_ED per layer (largest per column in bold). Histograms of the weights only (no biases): 10 equal-width bins over the joint min…max of FT and pretrained values (numpy.histogram edges); ε = 1e-10 added to each bin's probability of both histograms, then renormalised; natural log.
% mean ± std over 2 folds per column; std with ddof=0 (numpy np.std, ddof=0 is the population std). "—" = no fold has a result; "(k/n)" = only k of n folds have results (missing folds are left out, never counted as zero).
\begin{table}[t]
\centering
\caption{KL divergence D\_KL(FT\textbar{}\textbar{}Base) and Euclidean distance D\_ED per layer (largest per column in bold). Histograms of the weights only (no biases): 10 equal-width bins over the joint min\ldots{}max of FT and pretrained values (numpy.histogram edges); $\varepsilon$ = 1e-10 added to each bin's probability of both histograms, then renormalised; natural log.}
\label{tab:seafold-table3}
\begin{tabular}{lrr}
\toprule
 & D\_KL(FT\textbar{}\textbar{}Base) & D\_ED \\
\cmidrule(lr){2-2} \cmidrule(lr){3-3}
Layer & ms/balanced & ms/balanced \\
\midrule
1st Conv. & \textbf{0.200$\pm$0.100} & 1.500$\pm$0.500 \\
2nd Conv. & --- & --- \\
3rd Conv. & --- & --- \\
4th Conv. & --- & --- \\
5th Conv. & --- & --- \\
1st FC & \textbf{0.200$\pm$0.000} & \textbf{4.000$\pm$1.000} \\
2nd FC & --- & --- \\
\bottomrule
\end{tabular}

\smallskip
{\footnotesize mean $\pm$ std over 2 folds per column; std with ddof=0 (numpy np.std, ddof=0 is the population std). "---" = no fold has a result; "(k/n)" = only k of n folds have results (missing folds are left out, never counted as zero).}
\end{table}

"""#

}
