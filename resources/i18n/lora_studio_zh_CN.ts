<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AcceptPreview</name>
    <message>
        <location filename="../../gui/widgets/accept_preview.py" line="+18"/>
        <source>Accept the sure proposals?</source>
        <translation>接受有把握的建议？</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Confirm these {count} images as {name}: each was proposed as {name} with at least {threshold} confidence. Undo (U) takes them all back at once.</source>
        <translation>将这 {count} 张图片确认为 {name}：每张都以不低于 {threshold} 的置信度被建议为 {name}。撤销（U）可一次全部撤回。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Accept {count}</source>
        <translation>接受 {count} 张</translation>
    </message>
</context>
<context>
    <name>AccuracyPlot</name>
    <message>
        <location filename="../../gui/widgets/plots.py" line="+55"/>
        <source>train (smoothed)</source>
        <translation>训练集（平滑）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>validation</source>
        <translation>验证集</translation>
    </message>
    <message>
        <location line="+7"/>
        <location line="+64"/>
        <source>zero-shot</source>
        <translation>零样本</translation>
    </message>
    <message>
        <location line="-63"/>
        <location line="+50"/>
        <source>best</source>
        <translation>最佳</translation>
    </message>
    <message>
        <location line="-5"/>
        <source>early stop (best: epoch {epoch})</source>
        <translation>提前停止（最佳：第 {epoch} 轮）</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>start {accuracy} %</source>
        <translation>起点 {accuracy} %</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>zero-shot {accuracy} %</source>
        <translation>零样本 {accuracy} %</translation>
    </message>
</context>
<context>
    <name>App</name>
    <message>
        <location filename="../../gui/app.py" line="+128"/>
        <source>Cannot open {path}</source>
        <translation>无法打开 {path}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{path} does not exist. Check the spelling, or choose a folder with File › Open dataset…</source>
        <translation>{path} 不存在。请检查拼写，或选择一个文件夹（文件 › 打开数据集…）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{path} is not a dataset folder, a CSV file of path,label or a run folder. Choose a dataset with File › Open dataset… or a run with File › Open run…</source>
        <translation>{path} 不是数据集文件夹、path,label 格式的 CSV 文件或运行文件夹。请选择数据集（文件 › 打开数据集…）或运行（文件 › 打开运行…）。</translation>
    </message>
</context>
<context>
    <name>Banner</name>
    <message>
        <location filename="../../gui/widgets/banner.py" line="+40"/>
        <location line="+2"/>
        <source>Hide this message</source>
        <translation>隐藏此消息</translation>
    </message>
</context>
<context>
    <name>BusyRow</name>
    <message>
        <location filename="../../gui/widgets/busy_row.py" line="+28"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location line="+47"/>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
</context>
<context>
    <name>CellHeatMaps</name>
    <message>
        <location filename="../../gui/widgets/cell_heatmaps.py" line="+53"/>
        <source>drawing heat maps</source>
        <translation>绘制热力图</translation>
    </message>
</context>
<context>
    <name>ClassGallery</name>
    <message>
        <location filename="../../gui/widgets/class_panels.py" line="+61"/>
        <source>Train only</source>
        <translation>仅训练集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Val only</source>
        <translation>仅验证集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Test only</source>
        <translation>仅测试集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>All splits</source>
        <translation>全部划分</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Double-click an image to open it in your image viewer</source>
        <translation>双击图片可在图片查看器中打开</translation>
    </message>
    <message>
        <location line="+4"/>
        <location filename="../../gui/widgets/image_grid.py" line="+211"/>
        <source>Open an image</source>
        <translation>打开图片</translation>
    </message>
</context>
<context>
    <name>ClassPanel</name>
    <message>
        <location line="-45"/>
        <source>Double-click a class name to change how it is shown and prompted.</source>
        <translation>双击类别名称，可修改它的显示名称和在提示词中的写法。</translation>
    </message>
</context>
<context>
    <name>ClassPicker</name>
    <message>
        <location filename="../../gui/widgets/class_picker.py" line="+18"/>
        <source>Choose the right class</source>
        <translation>选择正确的类别</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Type to filter the classes</source>
        <translation>输入文字筛选类别</translation>
    </message>
</context>
<context>
    <name>ClassTable</name>
    <message>
        <location filename="../../gui/widgets/dataset_parts.py" line="+15"/>
        <source>Class</source>
        <translation>类别</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Folder</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Train</source>
        <translation>训练集</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Val</source>
        <translation>验证集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Test</source>
        <translation>测试集</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Total</source>
        <translation>合计</translation>
    </message>
    <message>
        <location line="+273"/>
        <source>Display name, used in zero-shot prompts (&apos;a photo of a …&apos;) and in results. Double-click to edit.</source>
        <translation>显示名称，用于零样本提示词（“a photo of a …”）和结果中。双击即可编辑。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Folder: {folder}
Double-click to rename</source>
        <translation>文件夹：{folder}
双击可重命名</translation>
    </message>
</context>
<context>
    <name>ConfigFields</name>
    <message>
        <location filename="../../gui/widgets/config_fields.py" line="+23"/>
        <source>Dataset folder</source>
        <translation>数据集文件夹</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Validation share</source>
        <translation>验证集比例</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Test share</source>
        <translation>测试集比例</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Split seed</source>
        <translation>划分随机种子</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Augment images</source>
        <translation>数据增强</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Colour jitter</source>
        <translation>颜色抖动</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>MixUp alpha</source>
        <translation>MixUp alpha</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>CutMix alpha</source>
        <translation>CutMix alpha</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mixed batch share</source>
        <translation>混合批次比例</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>RandAugment operations</source>
        <translation>RandAugment 操作数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>RandAugment strength</source>
        <translation>RandAugment 强度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Image cache (MB)</source>
        <translation>图像缓存 (MB)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cache folder</source>
        <translation>缓存文件夹</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Base model</source>
        <translation>基础模型</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Classifier start</source>
        <translation>分类头初始化</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Prompt templates</source>
        <translation>提示词模板</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>LoRA rank (r)</source>
        <translation>LoRA 秩 (r)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>LoRA alpha</source>
        <translation>LoRA alpha</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>LoRA dropout</source>
        <translation>LoRA 丢弃率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Layers with LoRA</source>
        <translation>加 LoRA 的层</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Adapt last N blocks</source>
        <translation>只微调最后 N 个块</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cache frozen blocks</source>
        <translation>缓存冻结块</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Epochs</source>
        <translation>训练轮数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Max steps</source>
        <translation>最大步数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Batch size</source>
        <translation>批大小</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Gradient accumulation</source>
        <translation>梯度累积</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Head learning rate</source>
        <translation>分类头学习率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Weight decay</source>
        <translation>权重衰减</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Warm-up share</source>
        <translation>预热比例</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Gradient clipping</source>
        <translation>梯度裁剪</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Early-stop patience</source>
        <translation>早停耐心轮数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Precision</source>
        <translation>精度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>CPU threads</source>
        <translation>CPU 线程数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Attention</source>
        <translation>注意力实现</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Compile</source>
        <translation>编译模型</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Gradient checkpointing</source>
        <translation>梯度检查点</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Class balance</source>
        <translation>类别平衡</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Test-time augmentation</source>
        <translation>测试时增强</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Runs folder</source>
        <translation>运行文件夹</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Run name</source>
        <translation>运行名称</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Continue run</source>
        <translation>继续训练的运行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Start from run</source>
        <translation>从已有运行开始</translation>
    </message>
    <message>
        <location line="+3"/>
        <location filename="../../gui/widgets/continue_dialog.py" line="+46"/>
        <source>use epochs</source>
        <translation>按训练轮数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>all blocks</source>
        <translation>全部块</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>all cores</source>
        <translation>全部核心</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../gui/widgets/continue_dialog.py" line="+2"/>
        <source>never stop early</source>
        <translation>不早停</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+2"/>
        <location line="+1"/>
        <location line="+1"/>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location line="-3"/>
        <source>auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>no clipping</source>
        <translation>不裁剪</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>(the user cache folder)</source>
        <translation>（用户缓存文件夹）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>(start a new run)</source>
        <translation>（开始新的训练）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>(the base model)</source>
        <translation>（从基础模型开始）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>(dataset name + date and time)</source>
        <translation>（数据集名称 + 日期和时间）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>(default: runs)</source>
        <translation>（默认：runs）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>LoRA fine-tuning</source>
        <translation>LoRA 微调</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Linear probe (head only)</source>
        <translation>线性探测（只训练分类头）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Zero-shot (from the class names)</source>
        <translation>零样本（由类别名称生成）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Class prototypes (mean image)</source>
        <translation>类别原型（图像均值）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Random</source>
        <translation>随机</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Eager (plain PyTorch)</source>
        <translation>Eager（普通 PyTorch 实现）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>SDPA (fused kernel)</source>
        <translation>SDPA（融合注意力内核）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>None</source>
        <translation>不处理</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Weighted loss</source>
        <translation>加权损失</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Balanced sampling</source>
        <translation>均衡采样</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>On</source>
        <translation>开启</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mirror image</source>
        <translation>镜像图像</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mirror image and 5 crops</source>
        <translation>镜像图像和 5 个裁剪</translation>
    </message>
</context>
<context>
    <name>ConfigTab</name>
    <message>
        <location filename="../../gui/tabs/config_tab.py" line="+28"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Data</source>
        <translation>数据</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Hardware</source>
        <translation>硬件</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Output</source>
        <translation>输出</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Quick (CPU)</source>
        <translation>快速 (CPU)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Linear probe (fastest)</source>
        <translation>线性探测（最快）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Tutorial recipe</source>
        <translation>教程配方</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Best accuracy (GPU)</source>
        <translation>最佳准确率 (GPU)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>last 4 blocks · minutes on a laptop</source>
        <translation>最后 4 个块 · 笔记本上几分钟</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>head only · seconds</source>
        <translation>仅分类头 · 几秒钟</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>r=8, alpha 32 · 10 epochs</source>
        <translation>r=8, alpha 32 · 10 轮</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>SigLIP 2 B/16, r=16 · wants a GPU</source>
        <translation>SigLIP 2 B/16，r=16 · 需要 GPU</translation>
    </message>
    <message>
        <location line="+59"/>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Load config…</source>
        <translation>加载配置…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Save config…</source>
        <translation>保存配置…</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Sets {settings}</source>
        <translation>设置：{settings}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Every other training setting goes back to its default; the dataset, hardware and output settings stay as they are.</source>
        <translation>其他训练设置都恢复为默认值；数据集、硬件和输出设置保持不变。</translation>
    </message>
    <message>
        <location line="+41"/>
        <source>Command line:</source>
        <translation>命令行：</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>Set in step 1 (Dataset), where the split is shown.</source>
        <translation>在第 1 步（数据集）中设置，那里会显示划分。</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Choose a dataset in step 1 (Dataset).</source>
        <translation>请在第 1 步（数据集）中选择数据集。</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Could not load {path}: {error} Correct it in the file, or choose another file.</source>
        <translation>无法加载 {path}：{error} 请在文件中改正，或选择另一个文件。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Could not load {path}: {error}. Choose a JSON or YAML file saved by LoRA Studio or `python -m engine`.</source>
        <translation>无法加载 {path}：{error}。请选择由 LoRA Studio 或 `python -m engine` 保存的 JSON 或 YAML 文件。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Loaded {path}.</source>
        <translation>已加载 {path}。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Could not save {path}: {error}.</source>
        <translation>无法保存 {path}：{error}。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Saved {path}.</source>
        <translation>已保存 {path}。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>{count} setting(s) need attention</source>
        <translation>{count} 项设置需要处理</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>{method} · {epochs} epochs · batch {batch}</source>
        <translation>{method} · {epochs} 轮 · 批大小 {batch}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{preset} · {method} · {epochs} epochs · batch {batch}</source>
        <translation>{preset} · {method} · {epochs} 轮 · 批大小 {batch}</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Find learning rate…</source>
        <translation>查找学习率…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Find a learning rate: a short test on a throw-away copy of the model (about a minute on the Quick preset), then one click uses it.</source>
        <translation>查找学习率：在模型的一次性副本上做一次简短测试（使用“快速”预设约需一分钟），然后一键采用建议值。</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>The learning-rate finder is still stopping; try again in a moment.</source>
        <translation>学习率查找器仍在停止中，请稍后再试。</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>{field} set to {value:.1e} by the learning-rate finder.</source>
        <translation>学习率查找器已将{field}设为 {value:.1e}。</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>The base model chosen last, {path}, is no longer there: the default model is chosen instead.</source>
        <translation>上次选择的基础模型 {path} 已不存在：已改为选择默认模型。</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Hide advanced settings</source>
        <translation>隐藏高级设置</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show advanced settings</source>
        <translation>显示高级设置</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Command line copied.</source>
        <translation>命令行已复制。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Load config</source>
        <translation>加载配置</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Config (*.json *.yaml *.yml)</source>
        <translation>配置文件 (*.json *.yaml *.yml)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Save config</source>
        <translation>保存配置</translation>
    </message>
    <message>
        <location line="-2"/>
        <source>JSON (*.json);;YAML (*.yaml)</source>
        <translation>JSON (*.json);;YAML (*.yaml)</translation>
    </message>
</context>
<context>
    <name>ConfusedPairs</name>
    <message>
        <location filename="../../gui/widgets/confused_pairs.py" line="+39"/>
        <source>True class</source>
        <translation>真实类别</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Predicted as</source>
        <translation>预测为</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Images</source>
        <translation>图片数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The mistakes made most often: click one to see its images and find it in the matrix</source>
        <translation>最常见的错误：点击其中一项，可查看它的图片并在矩阵中找到它</translation>
    </message>
</context>
<context>
    <name>ConfusionMatrixPlot</name>
    <message>
        <location filename="../../gui/widgets/confusion_matrix.py" line="+91"/>
        <source>true class</source>
        <translation>真实类别</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>predicted class</source>
        <translation>预测类别</translation>
    </message>
    <message>
        <location line="+152"/>
        <source>true: {true}
predicted: {predicted}
{count} images</source>
        <translation>真实：{true}
预测：{predicted}
{count} 张图片</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>true: {true}
predicted: {predicted}
{count} image ({share:.0f} % of {true})</source>
        <translation>真实：{true}
预测：{predicted}
{count} 张图片（占 {true} 的 {share:.0f} %）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>true: {true}
predicted: {predicted}
{count} images ({share:.0f} % of {true})</source>
        <translation>真实：{true}
预测：{predicted}
{count} 张图片（占 {true} 的 {share:.0f} %）</translation>
    </message>
</context>
<context>
    <name>ContinueDialog</name>
    <message>
        <location filename="../../gui/widgets/continue_dialog.py" line="-16"/>
        <location line="+33"/>
        <source>Continue training</source>
        <translation>继续训练</translation>
    </message>
    <message>
        <location line="-32"/>
        <source>Continue &lt;b&gt;{run}&lt;/b&gt; from its last checkpoint.</source>
        <translation>从最后一个检查点继续训练 &lt;b&gt;{run}&lt;/b&gt;。</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Epochs and max steps count the whole run, the part already trained included. The run keeps the settings it was trained with: learning rate, batch size, LoRA, data and augmentation stay as they were, and the learning-rate schedule is stretched to the new length. Device, precision and threads come from the Config tab. To train on with other settings, start a new run from this run&apos;s model instead: Config → Start from run.</source>
        <translation>训练轮数和最大步数按整个运行计算，包括已经训练过的部分。运行会保留训练时的设置：学习率、批大小、LoRA、数据和数据增强都保持不变，学习率调度会拉伸到新的长度。设备、精度和线程数取自“配置”标签页。如需用其他设置继续训练，请改为从该运行的模型开始一个新运行：配置 → 从已有运行开始。</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>⚠ This run&apos;s images were moved: {count} of {total} are no longer in {folder}. Choose the folder that holds them now.</source>
        <translation>⚠ 此运行的图像已被移动：{total} 张中有 {count} 张已不在 {folder} 中。请选择它们现在所在的文件夹。</translation>
    </message>
    <message>
        <location line="+7"/>
        <location line="+15"/>
        <source>New place of the run&apos;s images</source>
        <translation>运行图像的新位置</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Not every image of the run is in this folder.</source>
        <translation>此文件夹中没有包含该运行的全部图像。</translation>
    </message>
</context>
<context>
    <name>DatasetMap</name>
    <message>
        <location filename="../../gui/widgets/dataset_map.py" line="+224"/>
        <source>excluded</source>
        <translation>已排除</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>no label</source>
        <translation>无标签</translation>
    </message>
</context>
<context>
    <name>DatasetParts</name>
    <message>
        <location filename="../../gui/widgets/dataset_parts.py" line="-236"/>
        <source>“{name}” has {count} training images, {ratio}× fewer than “{biggest}” ({top}). The model may rarely predict the small classes. Add images to them if you can, or remove some from the largest ones.</source>
        <translation>“{name}”只有 {count} 张训练图像，仅为“{biggest}”（{top} 张）的 1/{ratio}。模型可能很少预测出这些小类别。如有可能，请为它们补充图像，或从最大的类别中删除一些图像。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>{count} classes have at least {ratio}× fewer training images than “{biggest}” ({top}): {listed} and {more} more. The model may rarely predict the small classes. Add images to them if you can, or remove some from the largest ones.</source>
        <translation>有 {count} 个类别的训练图像不超过“{biggest}”（{top} 张）的 1/{ratio}：{listed} 以及另外 {more} 个。模型可能很少预测出这些小类别。如有可能，请为它们补充图像，或从最大的类别中删除一些图像。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>{count} classes have at least {ratio}× fewer training images than “{biggest}” ({top}): {listed}. The model may rarely predict the small classes. Add images to them if you can, or remove some from the largest ones.</source>
        <translation>有 {count} 个类别的训练图像不超过“{biggest}”（{top} 张）的 1/{ratio}：{listed}。模型可能很少预测出这些小类别。如有可能，请为它们补充图像，或从最大的类别中删除一些图像。</translation>
    </message>
</context>
<context>
    <name>DatasetScanner</name>
    <message>
        <location filename="../../gui/scan_worker.py" line="+141"/>
        <source>scanning {source}</source>
        <translation>扫描 {source}</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>creating the demo dataset in {target}</source>
        <translation>在 {target} 中创建演示数据集</translation>
    </message>
</context>
<context>
    <name>DatasetTab</name>
    <message>
        <location filename="../../gui/tabs/dataset_tab.py" line="+83"/>
        <source>Scanning {name}…</source>
        <translation>正在扫描 {name}…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No dataset chosen yet</source>
        <translation>尚未选择数据集</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Dataset {name}: {classes} classes · {images} images · needs attention</source>
        <translation>数据集 {name}：{classes} 个类别 · {images} 张图像 · 需要处理</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Dataset {name}: {classes} classes · {images} images</source>
        <translation>数据集 {name}：{classes} 个类别 · {images} 张图像</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Choose a folder of images</source>
        <translation>选择图片文件夹</translation>
    </message>
    <message>
        <location line="+115"/>
        <source>Change…</source>
        <translation>更换…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose another folder (Ctrl+O), or drop one anywhere on this tab</source>
        <translation>选择另一个文件夹（Ctrl+O），或将文件夹拖放到此标签页的任意位置</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Rescan</source>
        <translation>重新扫描</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Read the folder again (after adding, removing or fixing images)</source>
        <translation>重新读取文件夹（在添加、删除或修复图片之后）</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Check labels…</source>
        <translation>检查标签…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Find likely label mistakes and near-duplicate images (the same photo in train and test first) with the Config tab&apos;s base model; your folder is only read</source>
        <translation>用“配置”标签页中的基础模型查找可能标错的图像和近似重复的图像（优先找出同时出现在训练集和测试集中的同一张照片）；只会读取你的文件夹，不会修改</translation>
    </message>
    <message>
        <location line="+76"/>
        <source>Release to open this folder instead</source>
        <translation>松开鼠标以改为打开此文件夹</translation>
    </message>
    <message>
        <location line="-261"/>
        <source>Folder: {root}</source>
        <translation>文件夹：{root}</translation>
    </message>
    <message>
        <location line="-1"/>
        <source>File: {root}</source>
        <translation>文件：{root}</translation>
    </message>
    <message>
        <location line="+155"/>
        <source>Drop a folder</source>
        <translation>拖放文件夹</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Open a recent folder</source>
        <translation>打开最近使用的文件夹</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>Map</source>
        <translation>地图</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Every image as a dot, placed by similarity with the Config tab&apos;s base model</source>
        <translation>每张图片显示为一个点，位置由“配置”标签页中的基础模型判断的相似程度决定</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Unsorted folder…</source>
        <translation>未分类文件夹…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Show the problems</source>
        <translation>显示问题</translation>
    </message>
    <message>
        <location line="+67"/>
        <source>Reading {source}…</source>
        <translation>正在读取 {source}…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Checking images: {done} of {total}</source>
        <translation>正在检查图像：{done}/{total}</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>⚠ Could not open this dataset. {message}</source>
        <translation>⚠ 无法打开此数据集。{message}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>⚠ Could not open this dataset. {message} Still showing {root}.</source>
        <translation>⚠ 无法打开此数据集。{message} 仍显示 {root}。</translation>
    </message>
    <message>
        <location line="+45"/>
        <source>&lt;b&gt;Layout:&lt;/b&gt; {layout}</source>
        <translation>&lt;b&gt;目录结构：&lt;/b&gt;{layout}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>{classes} classes · {images} images ({splits})</source>
        <translation>{classes} 个类别 · {images} 张图像（{splits}）</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>“{name}” cannot be used: class names must be unique and not empty. The previous name was kept.</source>
        <translation>不能使用“{name}”：类别名称必须唯一且不能为空。已保留原来的名称。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>A class needs a name. The previous name was kept.</source>
        <translation>类别必须有名称。已保留原来的名称。</translation>
    </message>
</context>
<context>
    <name>DemoFlow</name>
    <message>
        <location filename="../../gui/demo_flow.py" line="+57"/>
        <source>Demo: {stage}</source>
        <translation>演示：{stage}</translation>
    </message>
    <message>
        <location line="+42"/>
        <source>The offline demo model could not be prepared: {message}</source>
        <translation>无法准备离线演示模型：{message}</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Training could not start: {reason}</source>
        <translation>无法开始训练：{reason}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The demo run ended with status &apos;{status}&apos;.</source>
        <translation>演示训练以状态“{status}”结束。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Prediction failed: {message}</source>
        <translation>预测失败：{message}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Demo stopped: {message}</source>
        <translation>演示已停止：{message}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>creating a demo dataset of generated images…</source>
        <translation>正在用生成的图片创建演示数据集…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>preparing the offline demo model…</source>
        <translation>正在准备离线演示模型…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>training (watch the curves fill in)…</source>
        <translation>正在训练（看曲线逐步画出）…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>classifying held-out images…</source>
        <translation>正在对留出的图片进行分类…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>finished. Drop your own images on the Prediction tab, or start with your own folder.</source>
        <translation>已完成。把你自己的图片拖到“预测”标签页，或者从你自己的文件夹开始。</translation>
    </message>
</context>
<context>
    <name>DropZone</name>
    <message>
        <location filename="../../gui/widgets/drop_zone.py" line="+56"/>
        <source>Drop files here</source>
        <translation>将文件拖放到这里</translation>
    </message>
    <message>
        <location line="+89"/>
        <source>Release to add this image</source>
        <translation>松开鼠标即可添加这张图片</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Release to add {count} item</source>
        <translation>松开鼠标即可添加 {count} 项</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Release to add {count} items</source>
        <translation>松开鼠标即可添加 {count} 项</translation>
    </message>
</context>
<context>
    <name>EmptyState</name>
    <message>
        <location filename="../../gui/widgets/dataset_parts.py" line="+91"/>
        <source>…or drop a folder of images anywhere here</source>
        <translation>…或将图片文件夹拖放到此处任意位置</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Start with a folder of labelled images</source>
        <translation>从一个已标注的图片文件夹开始</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Put each class in its own subfolder (pets/beagle/*.jpg, pets/pug/*.jpg), or use train/val/test folders with class subfolders inside, or a CSV file of path,label. Photos not sorted yet? Unsorted folder… proposes a class for each and you confirm. No data yet? The demo dataset has four classes of coloured shapes and trains in a minute.</source>
        <translation>将每个类别放在单独的子文件夹中（pets/beagle/*.jpg、pets/pug/*.jpg），或使用内含类别子文件夹的 train/val/test 文件夹，或使用内容为 path,label 的 CSV 文件。照片还没分类？“未分类文件夹…”会为每张照片建议一个类别，由你确认。还没有数据？演示数据集包含四类彩色形状，一分钟即可训练完成。</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Choose a folder of images…</source>
        <translation>选择图片文件夹…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Create demo dataset</source>
        <translation>创建演示数据集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Unsorted folder…</source>
        <translation>未分类文件夹…</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Open recent: {folder}</source>
        <translation>打开最近使用：{folder}</translation>
    </message>
</context>
<context>
    <name>ErrorBanner</name>
    <message>
        <location filename="../../gui/widgets/error_banner.py" line="+19"/>
        <source>Open log folder</source>
        <translation>打开日志文件夹</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The log files hold each failure&apos;s details, for a bug report</source>
        <translation>日志文件记录了每次失败的详细信息，可用于报告问题</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>{message} ({count} times)</source>
        <translation>{message}（{count} 次）</translation>
    </message>
</context>
<context>
    <name>EvaluationView</name>
    <message>
        <location filename="../../gui/widgets/evaluation_view.py" line="+68"/>
        <source>Open a finished run&apos;s evaluation from the summary card in Training, or choose a run and press Evaluate.</source>
        <translation>可在“训练”页的总结卡片中打开已完成训练任务的评估，或选择一个训练任务后点击“评估”。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Which images to evaluate: test images were never used for training or for choosing the best epoch.</source>
        <translation>要评估哪些图片：测试集图片既没有用于训练，也没有用于挑选最佳轮次。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Evaluate</source>
        <translation>评估</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Open report folder</source>
        <translation>打开报告文件夹</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/per_class_table.py" line="+37"/>
        <source>Class</source>
        <translation>类别</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Precision</source>
        <translation>精确率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Recall</source>
        <translation>召回率</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>F1</source>
        <translation>F1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Images</source>
        <translation>图片数</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Recall at start</source>
        <translation>初始召回率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Recall of the model training started from (zero-shot or initial head), measured on the same images before the first step: did training, and class balancing, lift the small classes?</source>
        <translation>训练起点模型（零样本或初始分类头）的召回率，在第一步之前于同样的图片上测得：训练和类别平衡是否提升了样本少的类别？</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/evaluation_view.py" line="+6"/>
        <source>Scroll to zoom, drag to move, hover a cell for its classes</source>
        <translation>滚动鼠标滚轮缩放，拖动以移动，悬停在单元格上可查看其类别</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Fit</source>
        <translation>适应窗口</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show the whole matrix</source>
        <translation>显示整个矩阵</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Click a cell of the matrix to see its images.</source>
        <translation>点击矩阵中的单元格，查看其中的图片。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Heat maps</source>
        <translation>热力图</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show where the model looked for its class (Grad-CAM) on this cell&apos;s images; computed in the background</source>
        <translation>在该单元格的图片上显示模型判断类别时关注的区域（Grad-CAM）；在后台计算</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Open an image</source>
        <translation>打开图片</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Images:</source>
        <translation>图片：</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Per class</source>
        <translation>各类别</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Most confused</source>
        <translation>最易混淆</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Confidence</source>
        <translation>置信度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reliability diagram: how often the model was right at each confidence, before and after calibration</source>
        <translation>可靠性图：校准前后，模型在各置信度下预测正确的比例</translation>
    </message>
    <message>
        <location line="+55"/>
        <source>Evaluating {run} on the {split} images…</source>
        <translation>正在用{split}图片评估 {run}…</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>evaluating {run_dir}</source>
        <translation>评估 {run_dir}</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>✗ Evaluation failed: {message}</source>
        <translation>✗ 评估失败：{message}</translation>
    </message>
    <message>
        <location line="+42"/>
        <source>Click a cell of the matrix to see its images (off the diagonal = mistakes).</source>
        <translation>点击矩阵中的单元格，查看其中的图片（对角线以外 = 预测错误）。</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>{path}
confidence {confidence}</source>
        <translation>{path}
置信度 {confidence}</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/confused_pairs.py" line="+12"/>
        <location line="+2"/>
        <location filename="../../gui/widgets/confusion_matrix.py" line="-162"/>
        <location filename="../../gui/widgets/evaluation_view.py" line="-214"/>
        <location line="+26"/>
        <source>Show a cell&apos;s images</source>
        <translation>显示单元格中的图片</translation>
    </message>
</context>
<context>
    <name>ExportDialog</name>
    <message>
        <location filename="../../gui/export_dialog.py" line="+36"/>
        <source>Export model</source>
        <translation>导出模型</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Write &lt;b&gt;{run}&lt;/b&gt; for another runtime. The export is loaded back and compared with the run on its test pictures.</source>
        <translation>把 &lt;b&gt;{run}&lt;/b&gt; 导出给其他运行环境。导出结果会被重新加载，并在该运行的测试图片上与运行结果比较。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Format:</source>
        <translation>格式：</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>New folder:</source>
        <translation>新文件夹：</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The folder must be new or empty.</source>
        <translation>文件夹必须是新的或空的。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Where to put the export</source>
        <translation>导出到哪里</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Name a new folder for the export.</source>
        <translation>请为导出指定一个新文件夹。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>exporting {run} as {format}</source>
        <translation>正在把 {run} 导出为 {format}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Exporting as {format} and checking it against the run…</source>
        <translation>正在导出为 {format} 并与运行结果比较…</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>Nothing was exported: {error}</source>
        <translation>没有导出任何内容：{error}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The export had finished before it could be cancelled: it is in {folder}.</source>
        <translation>导出在取消之前已经完成：它在 {folder} 中。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Export cancelled; nothing was written.</source>
        <translation>导出已取消，没有写入任何内容。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Export model…</source>
        <translation>导出模型…</translation>
    </message>
</context>
<context>
    <name>FeedbackFlow</name>
    <message>
        <location filename="../../gui/feedback_flow.py" line="+43"/>
        <source>Mark right</source>
        <translation>标为正确</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+39"/>
        <location line="+30"/>
        <source>Wrong, it is…</source>
        <translation>错了，应该是…</translation>
    </message>
    <message>
        <location line="-32"/>
        <source>Right: {label}</source>
        <translation>正确：{label}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Remove the new label</source>
        <translation>移除新标签</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>The model said {label}. What is in {name}?</source>
        <translation>模型判断为 {label}。{name} 中实际是什么？</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>{count} new label(s) for this run · kept in {file}</source>
        <translation>此运行有 {count} 个新标签 · 保存在 {file}</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>A training run is going on: train with the new labels when it has ended.</source>
        <translation>正在进行一个训练任务：请在它结束后再用新标签训练。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Start a new run from the model of {run}, on its own images (same validation and test images) and the {count} new label(s)? {run} stays as it is.</source>
        <translation>从 {run} 的模型开始一个新运行，使用它自己的图片（验证集和测试集图片不变）以及 {count} 个新标签？{run} 保持不变。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Train with the new labels</source>
        <translation>用新标签训练</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Train with them…</source>
        <translation>用它们训练…</translation>
    </message>
</context>
<context>
    <name>FolderEditor</name>
    <message>
        <location filename="../../gui/widgets/config_fields.py" line="+238"/>
        <location filename="../../gui/widgets/continue_dialog.py" line="-25"/>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
</context>
<context>
    <name>LRFinderDialog</name>
    <message>
        <location filename="../../gui/lr_finder_dialog.py" line="+24"/>
        <source>learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>head learning rate</source>
        <translation>分类头学习率</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Choose a dataset in step 1 (Dataset) first: the learning-rate finder trains briefly on its images.</source>
        <translation>请先在第 1 步（数据集）中选择数据集：学习率查找器会用它的图片做简短训练。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The dataset cannot be used for training yet: step 1 (Dataset) says why.</source>
        <translation>该数据集还不能用于训练：原因见第 1 步（数据集）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The dataset has {count} training images; the learning-rate finder needs at least {minimum}. Add images, or keep the preset&apos;s learning rate.</source>
        <translation>数据集有 {count} 张训练图片，学习率查找器至少需要 {minimum} 张。请添加图片，或保留预设的学习率。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Fix the settings marked in red first.</source>
        <translation>请先修正标红的设置。</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Find a learning rate</source>
        <translation>查找学习率</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>learning rate (log scale)</source>
        <translation>学习率（对数刻度）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>training loss</source>
        <translation>训练损失</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location line="+38"/>
        <source>finding a learning rate</source>
        <translation>正在查找学习率</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>{stage}: {done} of {total}</source>
        <translation>{stage}：{done} / {total}</translation>
    </message>
    <message>
        <location line="+48"/>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>smoothed</source>
        <translation>平滑后</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>{seconds:.0f} s</source>
        <translation>{seconds:.0f} 秒</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The loss did not fall at any learning rate tried, so there is no suggestion. Check the dataset&apos;s labels, or keep the current {field}. ({seconds})</source>
        <translation>在试过的所有学习率下损失都没有下降，因此没有建议值。请检查数据集的标签，或保留当前的{field}。（{seconds}）</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Suggested {field}: {lr:.1e} (now {current:.1e}), half-way down the longest steady fall of the loss. Found in {seconds} from {steps} short steps on a throw-away copy of the model; your settings change only if you use it.</source>
        <translation>建议的{field}：{lr:.1e}（当前为 {current:.1e}），位于损失最长一段持续下降的中点。在模型的一次性副本上用 {steps} 个短步、耗时 {seconds} 找到；只有在你采用时才会更改设置。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Use {lr:.1e}</source>
        <translation>采用 {lr:.1e}</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
</context>
<context>
    <name>LanguageMenu</name>
    <message>
        <location filename="../../gui/widgets/language_menu.py" line="+29"/>
        <source>&amp;Language</source>
        <translation>语言 Language(&amp;L)</translation>
    </message>
    <message>
        <location line="+9"/>
        <location line="+16"/>
        <location line="+5"/>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location line="-5"/>
        <source>The translation for {language} is missing from this installation, so the window stays in English. Run &apos;make qm&apos; in a source checkout.</source>
        <translation>此安装缺少{language}的翻译，界面仍为英文。如果是源码目录，请运行 &apos;make qm&apos;。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>No installed font has Chinese characters, so some texts may show as boxes. On Linux install a CJK font (Debian/Ubuntu: sudo apt install fonts-noto-cjk) and restart LoRA Studio.</source>
        <translation>系统中没有包含中文字符的字体，部分文字可能显示为方框。在 Linux 上请安装 CJK 字体（Debian/Ubuntu：sudo apt install fonts-noto-cjk），然后重新启动 LoRA Studio。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>LORA_STUDIO_LANG is set: it chooses the language at start-up.</source>
        <translation>已设置 LORA_STUDIO_LANG：启动时由它决定界面语言。</translation>
    </message>
</context>
<context>
    <name>LiveCamera</name>
    <message>
        <location filename="../../gui/live_camera.py" line="+28"/>
        <source>Camera support could not be loaded ({error}). Install the system&apos;s audio and video libraries (on Linux: PulseAudio&apos;s libpulse0), or choose a video file instead.</source>
        <translation>无法加载摄像头支持（{error}）。请安装系统的音频和视频库（Linux 上为 PulseAudio 的 libpulse0），或改为选择视频文件。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>No camera found. Connect a camera (and check that no other app holds it), then choose Camera again; or choose a video file.</source>
        <translation>没有找到摄像头。请连接摄像头（并确认没有其他应用占用它），然后再次选择“摄像头”；或者选择一个视频文件。</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>macOS asks whether LoRA Studio may use the camera: allow it, and the camera starts.</source>
        <translation>macOS 正在询问是否允许 LoRA Studio 使用摄像头：允许后摄像头就会启动。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>macOS does not let LoRA Studio use the camera. Allow it in System Settings › Privacy &amp; Security › Camera, then press Start again.</source>
        <translation>macOS 不允许 LoRA Studio 使用摄像头。请在“系统设置 › 隐私与安全性（Privacy &amp; Security）› 摄像头”中允许，然后再次点击“开始”。</translation>
    </message>
    <message>
        <location line="+75"/>
        <source>The camera “{name}” stopped with an error: {error}. It may be in use by another app, or unplugged: close the other app or reconnect the camera, then press Start again.</source>
        <translation>摄像头“{name}”因错误而停止：{error}。它可能正被其他应用使用，或已被拔出：请关闭其他应用或重新连接摄像头，然后再次点击“开始”。</translation>
    </message>
</context>
<context>
    <name>LiveFlow</name>
    <message>
        <location filename="../../gui/live_flow.py" line="+24"/>
        <source>Videos (*.mp4 *.m4v *.mov *.avi *.mkv *.webm *.mpg *.mpeg *.wmv *.ts *.3gp *.ogv);;All files (*)</source>
        <translation>视频 (*.mp4 *.m4v *.mov *.avi *.mkv *.webm *.mpg *.mpeg *.wmv *.ts *.3gp *.ogv);;所有文件 (*)</translation>
    </message>
    <message>
        <location line="+22"/>
        <location line="+71"/>
        <source>Camera</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <location line="-70"/>
        <source>Video file…</source>
        <translation>视频文件…</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>Choose a video to predict</source>
        <translation>选择要预测的视频</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Video: {name}</source>
        <translation>视频：{name}</translation>
    </message>
    <message>
        <location line="+35"/>
        <source>There is no model to predict with yet. Train one in step 3 (Training), or open a run folder with “Open run folder…”, then press Start.</source>
        <translation>还没有可用于预测的模型。请在第 3 步（训练）中训练一个，或用“打开运行文件夹…”打开一个运行文件夹，然后点击“开始”。</translation>
    </message>
    <message>
        <location line="+70"/>
        <source>Where should snapshots be saved?</source>
        <translation>快照保存到哪里？</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>Saved {name} and its prediction ({json}) in {folder}.</source>
        <translation>已将 {name} 及其预测结果（{json}）保存到 {folder}。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>No dataset is open. Open the dataset to add frames to in step 1 (Dataset), then press Add to dataset again.</source>
        <translation>没有打开的数据集。请在第 1 步（数据集）中打开要加入帧的数据集，然后再次点击“加入数据集”。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The dataset open in step 1 is listed in a CSV file: frames can only be added to a dataset of class folders. Save the snapshot instead.</source>
        <translation>第 1 步中打开的数据集由 CSV 文件列出：帧只能加入由类别文件夹组成的数据集。请改为保存快照。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Which class does this frame show?</source>
        <translation>这一帧属于哪个类别？</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Add this frame to the dataset?</source>
        <translation>把这一帧加入数据集？</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>The frame will be copied to:
{path}

No file is replaced.</source>
        <translation>这一帧将被复制到：
{path}

不会覆盖任何文件。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Added {name} to the class {label} ({folder}). It is used from the next scan of the dataset in step 1.</source>
        <translation>已将 {name} 加入类别 {label}（{folder}）。从第 1 步下一次扫描数据集起会用到它。</translation>
    </message>
    <message>
        <location line="+52"/>
        <source>Nothing to save yet: start the camera or the video and wait for the first prediction.</source>
        <translation>还没有可保存的内容：请启动摄像头或视频，并等待第一个预测结果。</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>{classified:.1f} frames/s classified ({ms:.0f} ms each) · shown at {shown:.0f} frames/s · {dropped:,} frames dropped · {backend}</source>
        <translation>每秒识别 {classified:.1f} 帧（每帧 {ms:.0f} ms） · 每秒显示 {shown:.0f} 帧 · 丢弃 {dropped:,} 帧 · {backend}</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>The video has ended. Press Play again to watch it from the start, or Back to results.</source>
        <translation>视频已播放完毕。点击“重新播放”从头观看，或点击“返回结果”。</translation>
    </message>
</context>
<context>
    <name>LivePage</name>
    <message>
        <location filename="../../gui/widgets/live_view.py" line="+112"/>
        <location line="+58"/>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <location line="-57"/>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Back to results</source>
        <translation>返回结果</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Drag to another moment of the video</source>
        <translation>拖动以跳到视频的其他时刻</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Waiting for the first frame…</source>
        <translation>正在等待第一帧…</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Snapshot</source>
        <translation>快照</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Save this frame as PNG with its prediction (JSON beside it)</source>
        <translation>把这一帧保存为 PNG，并在旁边保存其预测结果（JSON）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Folder…</source>
        <translation>文件夹…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Where snapshots are saved</source>
        <translation>快照的保存位置</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Add to dataset…</source>
        <translation>加入数据集…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Copy this frame into a class folder of the dataset open in step 1</source>
        <translation>把这一帧复制到第 1 步中打开的数据集的某个类别文件夹</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Play again</source>
        <translation>重新播放</translation>
    </message>
</context>
<context>
    <name>LivePlot</name>
    <message>
        <location filename="../../gui/widgets/live_plot.py" line="+161"/>
        <source>step</source>
        <translation>步</translation>
    </message>
    <message>
        <location line="+158"/>
        <source>{label}: {value} (step {step})</source>
        <translation>{label}：{value}（第 {step} 步）</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/plots.py" line="-106"/>
        <source>Loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Accuracy</source>
        <translation>准确率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>accuracy (%)</source>
        <translation>准确率 (%)</translation>
    </message>
    <message>
        <location line="+131"/>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>learning rate</source>
        <translation>学习率</translation>
    </message>
</context>
<context>
    <name>LiveSnapshot</name>
    <message>
        <location filename="../../gui/live_snapshot.py" line="+36"/>
        <source>the frame could not be encoded as PNG</source>
        <translation>无法把这一帧编码为 PNG</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>no free file name for {stem} in {folder}</source>
        <translation>{folder} 中没有可用于 {stem} 的空闲文件名</translation>
    </message>
</context>
<context>
    <name>LiveWorker</name>
    <message>
        <location filename="../../gui/live_worker.py" line="+158"/>
        <source>classifying a frame</source>
        <translation>正在识别一帧</translation>
    </message>
    <message>
        <location line="+42"/>
        <source>playing {path}</source>
        <translation>正在播放 {path}</translation>
    </message>
</context>
<context>
    <name>LogPane</name>
    <message>
        <location filename="../../gui/widgets/log_pane.py" line="+47"/>
        <source>warning: {message}</source>
        <translation>警告：{message}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>ERROR: {message}</source>
        <translation>错误：{message}</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Log ({count} lines)</source>
        <translation>日志（{count} 行）</translation>
    </message>
    <message>
        <location line="-39"/>
        <location line="+42"/>
        <source>Log</source>
        <translation>日志</translation>
    </message>
</context>
<context>
    <name>LossPlot</name>
    <message>
        <location filename="../../gui/widgets/plots.py" line="-156"/>
        <source>train (raw)</source>
        <translation>训练集（原始）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>train (smoothed)</source>
        <translation>训练集（平滑）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>validation</source>
        <translation>验证集</translation>
    </message>
</context>
<context>
    <name>LrPlot</name>
    <message>
        <location line="+159"/>
        <source>learning rate</source>
        <translation>学习率</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../gui/main_window.py" line="+28"/>
        <source>1 Dataset</source>
        <translation>1 数据集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>2 Config</source>
        <translation>2 配置</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>3 Training</source>
        <translation>3 训练</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>4 Prediction</source>
        <translation>4 预测</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Saving the model before closing… The window closes when it is saved.</source>
        <translation>关闭前正在保存模型…保存完成后窗口会自动关闭。</translation>
    </message>
    <message>
        <location line="+142"/>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open dataset…</source>
        <translation>打开数据集…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Open recent dataset</source>
        <translation>最近的数据集</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Open run…</source>
        <translation>打开运行…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Load config…</source>
        <translation>加载配置…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Save config…</source>
        <translation>保存配置…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Create demo dataset</source>
        <translation>创建演示数据集</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Sort an unsorted folder…</source>
        <translation>整理一个未分类的文件夹…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Run</source>
        <translation>运行(&amp;R)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Start training</source>
        <translation>开始训练</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Stop…</source>
        <translation>停止…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Sweep…</source>
        <translation>超参数搜索…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Show training log</source>
        <translation>显示训练日志</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Export curves as PNG…</source>
        <translation>将曲线导出为 PNG…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open README</source>
        <translation>打开 README</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+110"/>
        <source>About LoRA Studio</source>
        <translation>关于 LoRA Studio</translation>
    </message>
    <message>
        <location line="-88"/>
        <source>(none yet)</source>
        <translation>（暂无）</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Open a run folder</source>
        <translation>打开运行文件夹</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Not a run folder</source>
        <translation>不是运行文件夹</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>{folder} has no run.json, so it is not a LoRA Studio run. Choose one of the folders inside your runs folder.</source>
        <translation>{folder} 中没有 run.json，所以它不是 LoRA Studio 的运行。请选择运行文件夹中的某个子文件夹。</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Stop training?</source>
        <translation>停止训练？</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop the run after the current step? The model trained so far is saved and can be used or continued later.</source>
        <translation>在当前步结束后停止训练？已训练的模型会被保存，之后可以使用或继续训练。</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Export curves</source>
        <translation>导出曲线</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>PNG (*.png)</source>
        <translation>PNG 图片 (*.png)</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>The README is not bundled with this build; see the project&apos;s home page.</source>
        <translation>此版本没有附带 README，请查看项目主页。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Training is running</source>
        <translation>训练正在进行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop the run and quit? The model trained so far is saved first.</source>
        <translation>停止训练并退出？已训练的模型会先被保存。</translation>
    </message>
</context>
<context>
    <name>MapFlow</name>
    <message>
        <location filename="../../gui/map_flow.py" line="+28"/>
        <source>Finding each image&apos;s nearest neighbours…</source>
        <translation>正在查找每张图片的最近邻…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Refining the map: step {done} of {total}</source>
        <translation>正在细化地图：第 {done}/{total} 步</translation>
    </message>
    <message>
        <location line="+66"/>
        <source>Mapping the dataset with {model}…</source>
        <translation>正在用 {model} 绘制数据集地图…</translation>
    </message>
    <message>
        <location line="+35"/>
        <source>drawing the dataset map</source>
        <translation>绘制数据集地图</translation>
    </message>
    <message>
        <location line="+42"/>
        <source>⚠ The map could not be drawn. {error}</source>
        <translation>⚠ 无法绘制地图。{error}</translation>
    </message>
    <message>
        <location line="+61"/>
        <source>Map these images</source>
        <translation>绘制这些图片的地图</translation>
    </message>
</context>
<context>
    <name>MapPage</name>
    <message>
        <location filename="../../gui/sorting_map.py" line="+45"/>
        <location filename="../../gui/widgets/map_page.py" line="+71"/>
        <source>Back to the dataset</source>
        <translation>返回数据集</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/map_page.py" line="-49"/>
        <source>Drag to select a rectangle · hold Shift (or turn on Lasso) to draw around dots · click a dot to pick one image · wheel zooms · right-drag pans</source>
        <translation>拖动框选矩形 · 按住 Shift（或打开“套索”）徒手圈选 · 单击一个点选中一张图片 · 滚轮缩放 · 右键拖动平移</translation>
    </message>
    <message>
        <location line="+40"/>
        <source>Lasso</source>
        <translation>套索</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Drag draws a freehand outline instead of a rectangle (or hold Shift)</source>
        <translation>拖动时徒手圈选，而不是框选矩形（也可按住 Shift）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Fit</source>
        <translation>适应</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show the whole map</source>
        <translation>显示整张地图</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Click a class to select its images</source>
        <translation>单击类别即可选中它的全部图片</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Select a class</source>
        <translation>选择类别</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>Relabel as</source>
        <translation>改标为</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Give every selected image the class chosen beside</source>
        <translation>将所有选中的图片改标为旁边所选的类别</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Exclude</source>
        <translation>排除</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Leave every selected image out of the dataset</source>
        <translation>将所有选中的图片排除出数据集</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Save reviewed dataset</source>
        <translation>保存审核后的数据集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Write the dataset with these decisions as a CSV dataset in LoRA Studio&apos;s data folder and open it: your folder stays as it is</source>
        <translation>按这些决定将数据集写成 CSV 数据集，保存到 LoRA Studio 的数据文件夹并打开它：你的文件夹保持不变</translation>
    </message>
    <message>
        <location line="+98"/>
        <source>no label</source>
        <translation>无标签</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>excluded</source>
        <translation>已排除</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>likely label mistake</source>
        <translation>可能标错</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>near-duplicate</source>
        <translation>近似重复</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>&lt;b&gt;Map&lt;/b&gt; of {count} images</source>
        <translation>&lt;b&gt;地图&lt;/b&gt;：{count} 张图片</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{count} decisions</source>
        <translation>{count} 个决定</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>(not saved yet)</source>
        <translation>（尚未保存）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>{count} selected</source>
        <translation>已选中 {count} 张</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Select dots on the map to see their images here</source>
        <translation>在地图上选中一些点，即可在这里查看它们的图片</translation>
    </message>
</context>
<context>
    <name>ModelPicker</name>
    <message>
        <location filename="../../gui/widgets/model_picker.py" line="+21"/>
        <source>Local folder…</source>
        <translation>本地文件夹…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Offline demo model (untrained)</source>
        <translation>离线演示模型（未训练）</translation>
    </message>
    <message>
        <location line="+74"/>
        <source>Check</source>
        <translation>检查</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Load the model now (in the background) to see whether it works.</source>
        <translation>现在（在后台）加载模型，看看它能否使用。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Use the offline demo model</source>
        <translation>使用离线演示模型</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Choose a base model</source>
        <translation>选择基础模型</translation>
    </message>
    <message>
        <location line="+52"/>
        <source>Folder with a CLIP, SigLIP or DINOv2 checkpoint</source>
        <translation>包含 CLIP、SigLIP 或 DINOv2 检查点的文件夹</translation>
    </message>
    <message>
        <location line="+22"/>
        <location line="+45"/>
        <source>Loading {ref}…</source>
        <translation>正在加载 {ref}…</translation>
    </message>
    <message>
        <location line="-39"/>
        <source>checking the model {ref}</source>
        <translation>检查模型 {ref}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Preparing the offline demo model…</source>
        <translation>正在准备离线演示模型…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>creating the offline demo model</source>
        <translation>创建离线演示模型</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>Downloading {ref}: {amount}…</source>
        <translation>正在下载 {ref}：{amount}…</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>✓ Offline demo model ready. It is tiny and untrained: good for trying the app, not for real photos.</source>
        <translation>✓ 离线演示模型已就绪。它很小且未经训练：适合试用本软件，不适合真实照片。</translation>
    </message>
</context>
<context>
    <name>NeighboursFlow</name>
    <message>
        <location filename="../../gui/neighbours_flow.py" line="+57"/>
        <source>{name} could not be read, so it has no neighbours.</source>
        <translation>无法读取 {name}，因此找不到相似图片。</translation>
    </message>
    <message>
        <location line="+14"/>
        <location line="+16"/>
        <source>More like {name}</source>
        <translation>与 {name} 相似的图片</translation>
    </message>
    <message>
        <location line="-15"/>
        <source>Finding the images most like {name} (with {model})…</source>
        <translation>正在查找与 {name} 最相似的图片（使用 {model}）…</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+16"/>
        <source>finding images like {name}</source>
        <translation>查找与 {name} 相似的图片</translation>
    </message>
    <message>
        <location line="-15"/>
        <location line="+16"/>
        <location line="+103"/>
        <location line="+28"/>
        <location line="+19"/>
        <source>More like this</source>
        <translation>更多相似图片</translation>
    </message>
    <message>
        <location line="-153"/>
        <source>Finding the images most like {name}…</source>
        <translation>正在查找与 {name} 最相似的图片…</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Training images nearest to {name}</source>
        <translation>最接近 {name} 的训练图片</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>{count} training images could not be read and are left out.</source>
        <translation>{count} 张训练图片无法读取，已略过。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Embedding the training images of {run} with its own model…</source>
        <translation>正在用 {run} 自己的模型计算其训练图片的嵌入…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>finding the training images nearest to {name}</source>
        <translation>查找最接近 {name} 的训练图片</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+170"/>
        <source>Why? Nearest training images</source>
        <translation>为什么？最接近的训练图片</translation>
    </message>
    <message>
        <location line="-62"/>
        <location line="+25"/>
        <source>Select an image first, then press M (or right-click it) to see the images most like it.</source>
        <translation>请先选中一张图片，然后按 M（或右键点击它），查看与它最相似的图片。</translation>
    </message>
</context>
<context>
    <name>NeighboursPanel</name>
    <message>
        <location line="-42"/>
        <location filename="../../gui/widgets/neighbours_panel.py" line="+80"/>
        <location line="+2"/>
        <source>Go to a similar image</source>
        <translation>跳到相似图片</translation>
    </message>
    <message>
        <location filename="../../gui/widgets/neighbours_panel.py" line="-53"/>
        <source>{share} % alike</source>
        <translation>相似度 {share} %</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>Close (Esc)</source>
        <translation>关闭（Esc）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Click an image to go to it</source>
        <translation>点击图片即可跳到它</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Most like {name}</source>
        <translation>与 {name} 最相似</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>The image compared: {path}</source>
        <translation>用于比较的图片：{path}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>No other image to compare with.</source>
        <translation>没有其他可比较的图片。</translation>
    </message>
</context>
<context>
    <name>PredictionDelegate</name>
    <message>
        <location filename="../../gui/widgets/prediction_results.py" line="+235"/>
        <source>{title}  ? not sure: none of the classes fits well (best guesses below)</source>
        <translation>{title}  ? 不确定：没有哪个类别很吻合（下面是最可能的猜测）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{title}  ⚠ low confidence: check this one</source>
        <translation>{title}  ⚠ 置信度低：请检查这张图片</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Not predicted: {error}. Check the file, or save it as JPEG or PNG and add it again.</source>
        <translation>未预测：{error}。请检查该文件，或将其另存为 JPEG 或 PNG 后重新添加。</translation>
    </message>
</context>
<context>
    <name>PredictionList</name>
    <message>
        <location line="+45"/>
        <source>Results appear here: each image with its most likely labels and how sure the model is. Results below the “Mark below” confidence are flagged.</source>
        <translation>结果会显示在这里：每张图片及其最可能的标签，以及模型的把握有多大。置信度低于“标记低于”的结果会被标出。</translation>
    </message>
</context>
<context>
    <name>PredictionTab</name>
    <message>
        <location filename="../../gui/tabs/prediction_tab.py" line="+33"/>
        <source>Images (*.jpg *.jpeg *.png *.bmp *.gif *.webp *.tif *.tiff);;All files (*)</source>
        <translation>图片 (*.jpg *.jpeg *.png *.bmp *.gif *.webp *.tif *.tiff);;所有文件 (*)</translation>
    </message>
    <message>
        <location line="+49"/>
        <source>Paste</source>
        <translation>粘贴</translation>
    </message>
    <message>
        <location line="+11"/>
        <location line="+49"/>
        <source>Predicting…</source>
        <translation>正在预测…</translation>
    </message>
    <message>
        <location line="-47"/>
        <source>No model chosen yet</source>
        <translation>尚未选择模型</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Model {run}: {ok:,} predicted · {low:,} low confidence</source>
        <translation>模型 {run}：已预测 {ok:,} 张 · {low:,} 张置信度低</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Choose a model above, or just add images: the newest run ({run}) is then used.</source>
        <translation>请在上方选择模型，或直接添加图片：届时将使用最新的训练任务（{run}）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>No trained model yet. Train one in step 3, or open a run folder you were given.</source>
        <translation>还没有训练好的模型。请在第 3 步训练一个，或打开别人给你的运行文件夹。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Loading the model from {run_dir}…</source>
        <translation>正在从 {run_dir} 加载模型…</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>There is no model to predict with yet. Train one in step 3 (Training), or open a run folder with “Open run folder…”; the images you added will be predicted then.</source>
        <translation>还没有可用于预测的模型。请在第 3 步（训练）训练一个，或通过“打开运行文件夹…”打开一个运行文件夹；届时会预测你已添加的图片。</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Pasted image {number}</source>
        <translation>粘贴的图片 {number}</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>The clipboard holds no image. Copy an image (or image files) first, then press Ctrl+V here.</source>
        <translation>剪贴板中没有图片。请先复制一张图片（或图片文件），再在这里按 Ctrl+V。</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Could not save {path}: {error}. Choose another folder or file name and export again.</source>
        <translation>无法保存 {path}：{error}。请换一个文件夹或文件名，再导出一次。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Saved {count:,} results to {path}.</source>
        <translation>已将 {count:,} 条结果保存到 {path}。</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Choose a trained run to predict with.</source>
        <translation>选择一个训练任务用于预测。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Drop images, folders or a video anywhere here · Ctrl+V pastes an image</source>
        <translation>把图片、文件夹或视频拖到这里的任意位置 · Ctrl+V 粘贴图片</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Drop images</source>
        <translation>拖放图片</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Choose images…</source>
        <translation>选择图片…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose a folder…</source>
        <translation>选择文件夹…</translation>
    </message>
    <message>
        <location line="+95"/>
        <source>Could not load the model in {run_dir}. {message} Still using {run}.</source>
        <translation>无法加载 {run_dir} 中的模型。{message} 仍在使用 {run}。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Could not load the model in {run_dir}. {message} Choose another run above, or open another run folder.</source>
        <translation>无法加载 {run_dir} 中的模型。{message} 请在上方选择其他训练任务，或打开其他运行文件夹。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Predicting: {done:,} of {total:,} images</source>
        <translation>正在预测：第 {done:,}/{total:,} 张图片</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>Stopped. The results so far are kept; add the images again to predict the rest.</source>
        <translation>已停止。目前的结果已保留；重新添加这些图片即可预测剩余部分。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Prediction failed. {message}</source>
        <translation>预测失败。{message}</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Choose images to predict</source>
        <translation>选择要预测的图片</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Choose a folder of images to predict</source>
        <translation>选择包含待预测图片的文件夹</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Nothing to export yet: predict some images first.</source>
        <translation>还没有可导出的内容：请先预测一些图片。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Export predictions</source>
        <translation>导出预测结果</translation>
    </message>
</context>
<context>
    <name>PredictionWorker</name>
    <message>
        <location filename="../../gui/prediction_worker.py" line="+70"/>
        <source>loading the model in {run_dir}</source>
        <translation>加载 {run_dir} 中的模型</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>No model is loaded. Choose a trained run above (or open a run folder), then add the images again.</source>
        <translation>尚未加载模型。请在上方选择一个训练任务（或打开一个运行文件夹），然后重新添加图片。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>predicting</source>
        <translation>预测</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>drawing heat maps</source>
        <translation>绘制热力图</translation>
    </message>
</context>
<context>
    <name>ProblemList</name>
    <message>
        <location filename="../../gui/widgets/problem_list.py" line="+33"/>
        <location line="+43"/>
        <source>No problems found.</source>
        <translation>未发现问题。</translation>
    </message>
    <message>
        <location line="-36"/>
        <source>{count} must be fixed before training</source>
        <translation>{count} 个必须在训练前修复</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{count} skipped or worth a look</source>
        <translation>{count} 个已跳过或值得查看</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{count} problem: {details}</source>
        <translation>{count} 个问题：{details}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{count} problems: {details}</source>
        <translation>{count} 个问题：{details}</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>Copy list</source>
        <translation>复制列表</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Copy every problem (severity, path, reason) as text</source>
        <translation>将所有问题（严重程度、路径、原因）复制为文本</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+48"/>
        <source>Show details</source>
        <translation>显示详情</translation>
    </message>
    <message>
        <location line="-39"/>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>What is wrong</source>
        <translation>问题</translation>
    </message>
    <message>
        <location line="+37"/>
        <source>Hide details</source>
        <translation>隐藏详情</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>… and {count} more (Copy list has them all)</source>
        <translation>… 另有 {count} 个（“复制列表”包含全部）</translation>
    </message>
</context>
<context>
    <name>Progress</name>
    <message>
        <location filename="../../gui/progress_text.py" line="+15"/>
        <source>Checking the dataset…</source>
        <translation>正在检查数据集…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Checking {done} / {total} files</source>
        <translation>正在检查 {done} / {total} 个文件</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Downloading the model…</source>
        <translation>正在下载模型…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Downloading the model: {done} / {total} MB</source>
        <translation>正在下载模型：{done} / {total} MB</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Decoding images…</source>
        <translation>正在解码图像…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Decoding {done} / {total} images</source>
        <translation>正在解码 {done} / {total} 张图像</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Embedding images…</source>
        <translation>正在计算图像嵌入…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Embedding {done} / {total} images</source>
        <translation>正在计算图像嵌入：{done} / {total} 张</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Computing the frozen blocks…</source>
        <translation>正在计算冻结块…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Computing the frozen blocks: {done} / {total} images</source>
        <translation>正在计算冻结块：{done} / {total} 张图像</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Compiling the model (about a minute)…</source>
        <translation>正在编译模型（约一分钟）…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Compiling the model: {done} / {total} batch sizes</source>
        <translation>正在编译模型：{done} / {total} 种批大小</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Writing the test report…</source>
        <translation>正在写入测试报告…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Writing the test report: {done} / {total} images</source>
        <translation>正在写入测试报告：{done} / {total} 张图像</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Cross-validating the probe…</source>
        <translation>正在交叉验证线性探测…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cross-validating the probe: {done} of {total} folds done</source>
        <translation>正在交叉验证线性探测：已完成 {done} / {total} 折</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+1"/>
        <source>Ranking likely label mistakes…</source>
        <translation>正在对可能的标签错误排序…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Finding near-duplicates…</source>
        <translation>正在查找近似重复…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Finding near-duplicates: {done} / {total} images compared</source>
        <translation>正在查找近似重复：已比较 {done} / {total} 张图像</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Writing the report…</source>
        <translation>正在写入报告…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Writing the report: {done} / {total} files</source>
        <translation>正在写入报告：{done} / {total} 个文件</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Working… {done} / {total}</source>
        <translation>处理中… {done} / {total}</translation>
    </message>
    <message>
        <location line="+52"/>
        <source>{words}: {done} / {total}</source>
        <translation>{words}：{done} / {total}</translation>
    </message>
</context>
<context>
    <name>Readiness</name>
    <message>
        <location filename="../../gui/readiness.py" line="+26"/>
        <source>Go to Dataset</source>
        <translation>前往数据集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Go to Config</source>
        <translation>前往配置</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Go to Training</source>
        <translation>前往训练</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Go to Prediction</source>
        <translation>前往预测</translation>
    </message>
    <message>
        <location line="+53"/>
        <source>No dataset yet: choose a folder of images in step 1 (or create the demo dataset).</source>
        <translation>还没有数据集：请在第 1 步中选择一个图片文件夹（或创建演示数据集）。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The dataset has a problem that blocks training: {reason}</source>
        <translation>数据集有一个问题导致无法训练：{reason}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The dataset has {count} problems that block training. The first: {reason}</source>
        <translation>数据集有 {count} 个问题导致无法训练。第一个：{reason}</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>A setting needs attention first ({name}): {problem}</source>
        <translation>请先处理一项设置（{name}）：{problem}</translation>
    </message>
</context>
<context>
    <name>ReliabilityPlot</name>
    <message>
        <location filename="../../gui/widgets/reliability_plot.py" line="+29"/>
        <source>Confidence vs accuracy</source>
        <translation>置信度与准确率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>confidence</source>
        <translation>置信度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>accuracy</source>
        <translation>准确率</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>perfectly calibrated</source>
        <translation>完美校准</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>calibrated (ECE {ece:.1%})</source>
        <translation>校准后（ECE {ece:.1%}）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>uncalibrated (ECE {ece:.1%})</source>
        <translation>未校准（ECE {ece:.1%}）</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>before (ECE {ece:.1%})</source>
        <translation>校准前（ECE {ece:.1%}）</translation>
    </message>
</context>
<context>
    <name>ResultBar</name>
    <message>
        <location filename="../../gui/widgets/result_bar.py" line="+15"/>
        <source>Fastest (auto)</source>
        <translation>最快（自动）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>PyTorch</source>
        <translation>PyTorch</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>ONNX Runtime (full precision)</source>
        <translation>ONNX Runtime（全精度）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>ONNX Runtime int8</source>
        <translation>ONNX Runtime int8</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>OpenVINO</source>
        <translation>OpenVINO</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>OpenVINO int8</source>
        <translation>OpenVINO int8</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>No TTA</source>
        <translation>不用 TTA</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>TTA: flip</source>
        <translation>TTA：翻转</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>TTA: flip + crops</source>
        <translation>TTA：翻转 + 裁剪</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Show top</source>
        <translation>显示前</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>How many labels to show per image</source>
        <translation>每张图片显示多少个标签</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Mark below</source>
        <translation>标记低于</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Results whose top label is below this confidence are marked: check those by eye before trusting them</source>
        <translation>首选标签的置信度低于此值的结果会被标记：相信它们之前请先亲眼检查</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Not sure</source>
        <translation>不确定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Below the mark, say &apos;not sure&apos; instead of naming a class when the top probability is below the mark: for images that may show none of your classes. Trained runs calibrate their probabilities on the validation images, so the mark means what it says.</source>
        <translation>当最高概率低于标记值时，显示“不确定”而不是给出某个类别：适用于可能不属于任何类别的图片。训练任务会在验证集图片上校准概率，因此标记值名副其实。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Heat maps</source>
        <translation>热力图</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show where the model looked for its class (Grad-CAM) instead of the photo; computed in the background</source>
        <translation>显示模型判断类别时关注的区域（Grad-CAM），而不是原图；在后台计算</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>What computes the predictions. Fastest picks what was measured fastest on this kind of processor; the first use of a model prepares its file (seconds, once). int8 can change a close call: choose full precision where every answer must match the model&apos;s.</source>
        <translation>由谁计算预测。“最快”选择在这类处理器上测得最快的方式；某个模型第一次使用时会生成它的文件（几秒，仅一次）。int8 可能改变势均力敌的判断：需要每个答案都与模型一致时，请选全精度。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Test-time augmentation: average the calibrated probabilities of the image and its mirror (2 views), or of those and 5 crops (7 views): often a little more accurate, 2x or 7x slower. The first use fits its temperature on the validation images (seconds).</source>
        <translation>测试时增强（TTA）：对图片及其镜像（2 个视图）的校准后概率取平均，或再加 5 个裁剪（7 个视图）：通常稍微更准确，但慢 2 倍或 7 倍。第一次使用时会在验证集图片上拟合它的温度（几秒）。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Save all results as CSV (one row per image) or JSON (full top-k)</source>
        <translation>将所有结果保存为 CSV（每张图片一行）或 JSON（完整的 top-k）</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Clear</source>
        <translation>清空</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>No results yet.</source>
        <translation>暂无结果。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{count:,} predicted</source>
        <translation>已预测 {count:,} 张</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{count:,} not sure</source>
        <translation>{count:,} 张不确定</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{count:,} low confidence</source>
        <translation>{count:,} 张置信度低</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{count:,} not predicted</source>
        <translation>{count:,} 张未预测</translation>
    </message>
</context>
<context>
    <name>ReviewFlow</name>
    <message>
        <location filename="../../gui/review_flow.py" line="+89"/>
        <source>checking the dataset</source>
        <translation>检查数据集</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Checking labels and duplicates with {model}…</source>
        <translation>正在用 {model} 检查标签和重复图像…</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>⚠ The data check could not run. {error}</source>
        <translation>⚠ 无法运行数据检查。{error}</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>⚠ The reviewed dataset was not saved: {error}</source>
        <translation>⚠ 审查后的数据集没有保存：{error}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Saved the reviewed dataset ({count} decisions) to {path}. It is now the dataset; your folder {root} is unchanged.</source>
        <translation>已将审核后的数据集（{count} 个决定）保存到 {path}。它现在是当前数据集；你的文件夹 {root} 未作改动。</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Nothing to move: every decision so far keeps an image where it is.</source>
        <translation>无需移动：目前所有决定都会让图像留在原处。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>⚠ Moving stopped: {error}</source>
        <translation>⚠ 移动已中止：{error}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Moved {count} files in {root} (excluded images went to {name}-excluded beside it).</source>
        <translation>已移动 {root} 中的 {count} 个文件（排除的图像已移到旁边的 {name}-excluded 文件夹）。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>… and {count} more (see details)</source>
        <translation>… 另有 {count} 项（见详细信息）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>This moves {count} files in your dataset folder:

{moves}

Nothing is deleted or overwritten.</source>
        <translation>这将移动你的数据集文件夹中的 {count} 个文件：

{moves}

不会删除或覆盖任何文件。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Apply the review to your folder?</source>
        <translation>将审核结果应用到你的文件夹？</translation>
    </message>
</context>
<context>
    <name>ReviewModel</name>
    <message>
        <location filename="../../gui/widgets/review_model.py" line="+19"/>
        <source>undecided</source>
        <translation>未决定</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>✓ {name}</source>
        <translation>✓ {name}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>→ relabel as {name}</source>
        <translation>→ 改标为 {name}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>✓ keep</source>
        <translation>✓ 保留</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>✗ exclude</source>
        <translation>✗ 排除</translation>
    </message>
    <message>
        <location line="+82"/>
        <source>not sorted yet</source>
        <translation>尚未整理</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{proposed}? {confidence}
({second} {second_confidence})</source>
        <translation>{proposed}？{confidence}
（{second} {second_confidence}）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>{given} → {suggested}?
label quality {score} · {split}</source>
        <translation>{given} → {suggested}？
标签质量 {score} · {split}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>{first} ↔ {second}
similarity {similarity} · {where}</source>
        <translation>{first} ↔ {second}
相似度 {similarity} · {where}</translation>
    </message>
</context>
<context>
    <name>ReviewPage</name>
    <message>
        <location filename="../../gui/widgets/review_page.py" line="+24"/>
        <source>K keep · R relabel as suggested · 1–9 relabel as class N · X exclude · U undo · arrows move</source>
        <translation>K 保留 · R 改为建议的类别 · 1–9 改为第 N 个类别 · X 排除 · U 撤销 · 方向键移动</translation>
    </message>
    <message>
        <location line="+86"/>
        <source>Save reviewed dataset</source>
        <translation>保存审核后的数据集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Write your folder&apos;s images with these decisions as a CSV dataset in LoRA Studio&apos;s data folder and open it: your folder stays as it is</source>
        <translation>按这些决定将你文件夹中的图像写成 CSV 数据集，保存到 LoRA Studio 的数据文件夹并打开它：你的文件夹保持不变</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Apply to folder…</source>
        <translation>应用到文件夹…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Move relabelled images into their new class folder and excluded ones out of the dataset, after showing you every move</source>
        <translation>先列出每一项移动，再将改了标签的图像移到新的类别文件夹，并将排除的图像移出数据集</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Back to the dataset</source>
        <translation>返回数据集</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Label mistakes</source>
        <translation>标签错误</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Near-duplicates</source>
        <translation>近似重复</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Undo the last decision</source>
        <translation>撤销上一个决定</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Classes: {classes}</source>
        <translation>类别：{classes}</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>&lt;b&gt;Data check&lt;/b&gt; of {checked} labelled images ({source}): {issues} likely label mistakes, {pairs} near-duplicate pairs ({leaks} across splits). Decided: {decided} of {total}.</source>
        <translation>&lt;b&gt;数据检查&lt;/b&gt;：{checked} 张已标注图像（{source}）中有 {issues} 个可能的标签错误、{pairs} 对近似重复（{leaks} 对跨划分）。已决定：{decided}/{total}。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Label mistakes ({count})</source>
        <translation>标签错误（{count}）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Near-duplicates ({count})</source>
        <translation>近似重复（{count}）</translation>
    </message>
</context>
<context>
    <name>RunChooser</name>
    <message>
        <location filename="../../gui/widgets/run_chooser.py" line="+61"/>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Open run folder…</source>
        <translation>打开运行文件夹…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Look for new runs in the runs folder</source>
        <translation>在 runs 文件夹中查找新的训练任务</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Choose a trained run ({count} found)</source>
        <translation>选择一个训练任务（找到 {count} 个）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>No trained runs yet: train one in step 3, or open a run folder</source>
        <translation>还没有训练任务：请在第 3 步训练一个，或打开一个运行文件夹</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Open a run folder</source>
        <translation>打开运行文件夹</translation>
    </message>
    <message>
        <location filename="../../gui/tabs/prediction_tab.py" line="-197"/>
        <location filename="../../gui/widgets/run_chooser.py" line="-39"/>
        <source>Choose a run</source>
        <translation>选择训练任务</translation>
    </message>
</context>
<context>
    <name>RunControls</name>
    <message>
        <location filename="../../gui/widgets/run_controls.py" line="+20"/>
        <source>Start training</source>
        <translation>开始训练</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Resume</source>
        <translation>继续训练</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop after the current step; the model so far is saved.</source>
        <translation>在当前步完成后停止；目前训练的模型会被保存。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Ready.</source>
        <translation>就绪。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>%p %</source>
        <translation>%p%</translation>
    </message>
</context>
<context>
    <name>RunHistory</name>
    <message>
        <location filename="../../gui/widgets/run_history.py" line="+24"/>
        <source>completed</source>
        <translation>已完成</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <location line="+12"/>
        <location line="+58"/>
        <source>Earlier runs — tick to compare</source>
        <translation>之前的训练任务 — 勾选以对比</translation>
    </message>
    <message>
        <location line="-52"/>
        <source>Tick a run to overlay its validation curves; double-click to open it.</source>
        <translation>勾选训练任务可叠加显示其验证集曲线；双击可打开。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Open a run</source>
        <translation>打开训练任务</translation>
    </message>
    <message>
        <location line="+35"/>
        <source>Earlier runs appear here.</source>
        <translation>之前的训练任务会显示在这里。</translation>
    </message>
    <message>
        <location line="+53"/>
        <source>{name}
damaged: cannot be opened</source>
        <translation>{name}
已损坏：无法打开</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>{name}
{path}
model: {model}
classes: {classes}</source>
        <translation>{name}
{path}
模型：{model}
类别：{classes}</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>{name}
{status} · val {accuracy}</source>
        <translation>{name}
{status} · 验证集 {accuracy}</translation>
    </message>
</context>
<context>
    <name>RunSummaryCard</name>
    <message>
        <location filename="../../gui/widgets/run_summary.py" line="+17"/>
        <source>Training finished</source>
        <translation>训练完成</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Training stopped — the model so far is saved and usable</source>
        <translation>训练已停止 — 目前的模型已保存，可以使用</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Training failed</source>
        <translation>训练失败</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Training was interrupted (its process ended without finishing)</source>
        <translation>训练被中断（其进程未完成就结束了）</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Confidence calibrated: temperature {temperature:.2f}; calibration error on held-out validation images {before} → {after}.</source>
        <translation>置信度已校准：温度 {temperature:.2f}；留出的验证集图片上的校准误差 {before} → {after}。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Confidence left uncalibrated: temperature scaling did not help (a temperature of {tried:.2f} gave calibration error {before} → {tried_ece} on held-out validation images, {before} → {fitted} on all of them).</source>
        <translation>置信度未校准：温度缩放没有改善（温度 {tried:.2f} 下，留出的验证集图片上的校准误差为 {before} → {tried_ece}，全部验证集图片上为 {before} → {fitted}）。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Confidence left uncalibrated: {images} validation images are too few to calibrate on (at least {minimum} are needed).</source>
        <translation>置信度未校准：{images} 张验证集图片太少，无法用于校准（至少需要 {minimum} 张）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Confidence left uncalibrated: the model made no mistake on the {images} validation images to calibrate against.</source>
        <translation>置信度未校准：模型在 {images} 张验证集图片上没有出错，没有可用于校准的依据。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Confidence calibrated: temperature {temperature:.2f}.</source>
        <translation>置信度已校准：温度 {temperature:.2f}。</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>{backend}: same top label on {agree} of {images} test images, probabilities within {dp:.4f}</source>
        <translation>{backend}：{images} 张测试图片中 {agree} 的首选标签相同，概率相差不超过 {dp:.4f}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Fast prediction, compared with the model in full precision: {parts}.</source>
        <translation>快速预测与全精度模型的对比：{parts}。</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>Best validation accuracy</source>
        <translation>最佳验证集准确率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Start (step 0)</source>
        <translation>起点（第 0 步）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Test accuracy</source>
        <translation>测试集准确率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Time</source>
        <translation>用时</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Open the run folder</source>
        <translation>打开运行文件夹</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open evaluation</source>
        <translation>打开评估</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Try it in Prediction</source>
        <translation>在预测中试用</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Continue training</source>
        <translation>继续训练</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Resume this run from its last checkpoint; you choose its total number of epochs (a finished run can train for more).</source>
        <translation>从最后一个检查点继续训练该运行；总训练轮数由你选择（已完成的运行也可以再多训练几轮）。</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>No epoch scored higher than the model the run started from, so the saved model is the starting one.</source>
        <translation>没有任何轮次的得分高于训练起始时的模型，所以保存的是起始模型。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{accuracy} (the start)</source>
        <translation>{accuracy}（起始模型）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{accuracy} (epoch {epoch})</source>
        <translation>{accuracy}（第 {epoch} 轮）</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Saved in &lt;a href=&quot;{url}&quot;&gt;{path}&lt;/a&gt;</source>
        <translation>保存在 &lt;a href=&quot;{url}&quot;&gt;{path}&lt;/a&gt;</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Nothing was saved.</source>
        <translation>没有保存任何内容。</translation>
    </message>
</context>
<context>
    <name>ScanWorker</name>
    <message>
        <location filename="../../gui/scan_worker.py" line="-108"/>
        <source>The system refused while {doing}: {error} ({file}). Check that the folder exists, that you may write to it and that the disk has space, then try again.</source>
        <translation>执行“{doing}”时系统拒绝了操作：{error}（{file}）。请检查文件夹是否存在、你是否有写入权限以及磁盘空间是否充足，然后重试。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The system refused while {doing}: {error}. Check that the folder exists, that you may write to it and that the disk has space, then try again.</source>
        <translation>执行“{doing}”时系统拒绝了操作：{error}。请检查文件夹是否存在、你是否有写入权限以及磁盘空间是否充足，然后重试。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Something went wrong while {doing}: {kind}: {error}. This is probably a bug in LoRA Studio; please report it. {details}</source>
        <translation>执行“{doing}”时出错：{kind}：{error}。这很可能是 LoRA Studio 的缺陷，请报告此问题。{details}</translation>
    </message>
</context>
<context>
    <name>ServeDialog</name>
    <message>
        <location filename="../../gui/serve_dialog.py" line="+43"/>
        <source>Serve this model</source>
        <translation>提供预测服务</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Serve &lt;b&gt;{run}&lt;/b&gt; over HTTP, so other programs can ask it for predictions.</source>
        <translation>通过 HTTP 提供 &lt;b&gt;{run}&lt;/b&gt; 的预测服务，让其他程序可以向它请求预测。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>This computer only</source>
        <translation>仅本机</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Other computers too (needs an API key)</source>
        <translation>其他电脑也可访问（需要 API 密钥）</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Reachable from:</source>
        <translation>访问范围：</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Port:</source>
        <translation>端口：</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Copy key</source>
        <translation>复制密钥</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>API key:</source>
        <translation>API 密钥：</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Start</source>
        <translation>启动</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Closing this window stops the server.</source>
        <translation>关闭此窗口会停止服务器。</translation>
    </message>
    <message>
        <location line="+80"/>
        <source>Requests served: {n} · images: {images}</source>
        <translation>已处理请求：{n} · 图片：{images}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Last error: {error}</source>
        <translation>最近的错误：{error}</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Loading the model and starting the server…</source>
        <translation>正在加载模型并启动服务器…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Only this computer can reach it.</source>
        <translation>只有本机可以访问。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Any computer that can reach this one on port {port} can use it with the API key.</source>
        <translation>任何能通过端口 {port} 访问本机的电脑，都可以凭 API 密钥使用它。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Serving at &lt;b&gt;{url}&lt;/b&gt; · &lt;a href=&quot;{url}/docs&quot;&gt;API docs&lt;/a&gt;. {who}</source>
        <translation>正在 &lt;b&gt;{url}&lt;/b&gt; 提供服务 · &lt;a href=&quot;{url}/docs&quot;&gt;API 文档&lt;/a&gt;。{who}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The server did not start: {error}</source>
        <translation>服务器未能启动：{error}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Not serving. Start makes the model answer at http://{host}:{port}.</source>
        <translation>未在提供服务。点击“启动”后，模型将在 http://{host}:{port} 应答。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Serve this model…</source>
        <translation>提供预测服务…</translation>
    </message>
</context>
<context>
    <name>SortingFlow</name>
    <message>
        <location filename="../../gui/sorting_flow.py" line="+47"/>
        <source>Reading {done} / {total} files</source>
        <translation>正在读取 {done} / {total} 个文件</translation>
    </message>
    <message>
        <location line="+67"/>
        <source>embedding the images</source>
        <translation>计算图片嵌入</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Embedding the images with {model}…</source>
        <translation>正在用 {model} 计算图片嵌入…</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>⚠ Sorting could not go on. {error}</source>
        <translation>⚠ 整理无法继续。{error}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Embedding was cancelled; nothing was changed. Open the folder again to go on (what was embedded so far is kept).</source>
        <translation>已取消计算嵌入；没有任何改动。再次打开该文件夹即可继续（已计算的嵌入会保留）。</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>proposing classes</source>
        <translation>建议类别</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>copying into class folders</source>
        <translation>复制到类别文件夹</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Moving {count} images…</source>
        <translation>正在移动 {count} 张图片…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Copying {count} images…</source>
        <translation>正在复制 {count} 张图片…</translation>
    </message>
</context>
<context>
    <name>SortingMap</name>
    <message>
        <location filename="../../gui/sorting_map.py" line="-29"/>
        <source>Map</source>
        <translation>地图</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Every image of the folder as a dot, similar images close together, coloured by class: select a group with the lasso to confirm or exclude it at once</source>
        <translation>文件夹中的每张图片显示为一个点，相似的图片彼此靠近，颜色表示类别：用套索选中一组，即可一次确认或排除</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Back to sorting</source>
        <translation>返回整理视图</translation>
    </message>
</context>
<context>
    <name>SortingPage</name>
    <message>
        <location filename="../../gui/widgets/sorting_page.py" line="+25"/>
        <source>K or Enter accept · 1–9 class N · X exclude · U undo · arrows move</source>
        <translation>K 或 Enter 接受 · 1–9 设为第 N 个类别 · X 排除 · U 撤销 · 方向键移动</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>zero-shot head</source>
        <translation>零样本分类头</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>your examples (class prototypes)</source>
        <translation>你的示例（类别原型）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>your examples (linear probe)</source>
        <translation>你的示例（线性探测）</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>No proposals yet: {source} cannot name the classes, so label one image of each class first (number keys; “Ask me” lists images spread over the folder). Proposals start then.</source>
        <translation>还没有建议：{source} 无法说出类别名称，所以请先为每个类别标注一张图片（用数字键；“问我”列出分散在整个文件夹中的图片）。之后就会开始给出建议。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>the trained run&apos;s head</source>
        <translation>训练好的运行的分类头</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Proposals from: {method} · embedded with {source}</source>
        <translation>建议来自：{method} · 嵌入模型：{source}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>right on {score} of your confirmed images it did not see</source>
        <translation>在它没见过的已确认图片上正确率为 {score}</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Undo the last decision</source>
        <translation>撤销上一个决定</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Accept above…</source>
        <translation>接受高于…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Confirm every image of this class proposed at or above the confidence, after a preview</source>
        <translation>先预览，再确认此类别中建议置信度不低于该值的所有图片</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Re-propose with a trained run…</source>
        <translation>用训练好的任务重新建议…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Save as dataset</source>
        <translation>保存为数据集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Copy into class folders…</source>
        <translation>复制到类别文件夹…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>move instead</source>
        <translation>改为移动</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Back</source>
        <translation>返回</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Confidence:</source>
        <translation>置信度：</translation>
    </message>
    <message>
        <location line="+62"/>
        <source>Classes: {classes}</source>
        <translation>类别：{classes}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&lt;b&gt;Unsorted:&lt;/b&gt; {folder} ({count} images) · classes: {classes}</source>
        <translation>&lt;b&gt;未分类：&lt;/b&gt;{folder}（{count} 张图片）· 类别：{classes}</translation>
    </message>
    <message>
        <location line="+64"/>
        <source>{name}   ✓ {confirmed} · {proposed} proposed</source>
        <translation>{name}   ✓ {confirmed} · 建议 {proposed}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>?   {count} unsure</source>
        <translation>?   {count} 张不确定</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Ask me   {count} open</source>
        <translation>问我   {count} 张待定</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Excluded   {count}</source>
        <translation>已排除   {count}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Confirmed {confirmed} of {total} · excluded {excluded} · you changed {share} of the proposals you decided</source>
        <translation>已确认 {confirmed}/{total} · 已排除 {excluded} · 在你决定过的建议中改动了 {share}</translation>
    </message>
    <message>
        <location line="+76"/>
        <source>No open image of {name} is proposed at {threshold} or above.</source>
        <translation>{name} 中没有建议置信度不低于 {threshold} 的未决定图片。</translation>
    </message>
</context>
<context>
    <name>SortingStart</name>
    <message>
        <location filename="../../gui/sorting_start.py" line="+49"/>
        <source>Sort an unsorted folder</source>
        <translation>整理一个未分类的文件夹</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>{folder}: {count} images. They are embedded with {model}; the folder itself is only read.</source>
        <translation>{folder}：{count} 张图片。将用 {model} 计算它们的嵌入；文件夹本身只会被读取。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Class names (one per line, or separated by commas):</source>
        <translation>类别名称（每行一个，或用逗号分隔）：</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Optional: a folder of examples, one sub-folder per class named like the class: they teach the proposals from the start.</source>
        <translation>可选：示例文件夹，每个类别一个以类别命名的子文件夹：从一开始就用它们指导建议。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{model} cannot name classes from text (it has no text tower): label one image of each class first (the sorting asks for them, spread over the folder), or choose a folder of examples, one sub-folder per class named like the class.</source>
        <translation>{model} 无法根据文本说出类别名称（它没有文本编码器）：请先为每个类别标注一张图片（整理视图会从整个文件夹中分散地请你标注），或者选择一个示例文件夹，每个类别一个子文件夹，以类别命名。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Examples folder…</source>
        <translation>示例文件夹…</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Start sorting</source>
        <translation>开始整理</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Choose a folder of examples (one sub-folder per class)</source>
        <translation>选择示例文件夹（每个类别一个子文件夹）</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>{path} is not a folder.</source>
        <translation>{path} 不是文件夹。</translation>
    </message>
</context>
<context>
    <name>SortingView</name>
    <message>
        <location filename="../../gui/sorting_view.py" line="+76"/>
        <source>Sort a folder of unsorted photos: name the classes, the model proposes, you confirm; the folder itself is only read</source>
        <translation>整理一个未分类的照片文件夹：你给出类别名称，模型提出建议，由你确认；文件夹本身只会被读取</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Choose a folder of unsorted images</source>
        <translation>选择未分类的图片文件夹</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>listing {folder}</source>
        <translation>列出 {folder} 中的图片</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>⚠ {error}</source>
        <translation>⚠ {error}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Listing the images of {folder}…</source>
        <translation>正在列出 {folder} 中的图片…</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>⚠ {folder} holds no images (JPEG, PNG, WebP, …), in it or in its sub-folders: choose the folder that holds your photos.</source>
        <translation>⚠ {folder} 及其子文件夹中都没有图片（JPEG、PNG、WebP 等）：请选择存放你照片的文件夹。</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>The run {run} now proposes the {count} images still unsorted in {folder}: “Unsorted folder…” takes you back to them.</source>
        <translation>现在由运行 {run} 为 {folder} 中仍未分类的 {count} 张图片给出建议：用“未分类文件夹…”即可回到这些图片。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>⚠ {count} images could not be read and are left out:
{files}</source>
        <translation>⚠ {count} 张图片无法读取，已略过：
{files}</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>Choose a run trained on this sorting&apos;s dataset</source>
        <translation>选择一个用此次整理的数据集训练的运行</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>⚠ The dataset was not saved: {error}</source>
        <translation>⚠ 数据集没有保存：{error}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Saved {count} confirmed images as the dataset {path}: it is open, ready to train. Your folder {folder} is unchanged. “Unsorted folder…” with the same folder comes back to the sorting.</source>
        <translation>已将 {count} 张已确认的图片保存为数据集 {path}：它已打开，可以直接训练。你的文件夹 {folder} 未作改动。对同一文件夹再次使用“未分类文件夹…”即可回到整理。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Choose where to make the class folders (outside the unsorted folder)</source>
        <translation>选择在哪里创建类别文件夹（须在未分类的文件夹之外）</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>… and {count} more (see details)</source>
        <translation>… 另有 {count} 项（见详细信息）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>This MOVES {count} images out of your unsorted folder:

{files}

Nothing is overwritten.</source>
        <translation>注意：这将把 {count} 张图片移出你的未分类的文件夹：

{files}

不会覆盖任何文件。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>This copies {count} images into class folders:

{files}

Your unsorted folder is not changed.</source>
        <translation>这将把 {count} 张图片复制到类别文件夹：

{files}

你的未分类的文件夹不会被改动。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Move the images?</source>
        <translation>移动这些图片？</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Copy the images?</source>
        <translation>复制这些图片？</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Moved {count} images into class folders.</source>
        <translation>已将 {count} 张图片移到类别文件夹。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Copied {count} images into class folders; your folder is unchanged.</source>
        <translation>已将 {count} 张图片复制到类别文件夹；你的文件夹未作改动。</translation>
    </message>
</context>
<context>
    <name>SplitBox</name>
    <message>
        <location filename="../../gui/widgets/dataset_parts.py" line="-110"/>
        <source>Automatic split (the folder has no train/val/test folders)</source>
        <translation>自动划分（该文件夹没有 train/val/test 子文件夹）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Share of each class held out to choose the best epoch.</source>
        <translation>每个类别中留作验证、用于选出最佳训练轮次的比例。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Share of each class kept aside for the final, honest score.</source>
        <translation>每个类别中预留出来、用于最终客观评分的比例。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Same seed, same split: change it to draw a different split.</source>
        <translation>种子相同，划分就相同：修改种子可得到不同的划分。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Validation share</source>
        <translation>验证集比例</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Test share</source>
        <translation>测试集比例</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
</context>
<context>
    <name>Splits</name>
    <message>
        <location line="-112"/>
        <source>train</source>
        <translation>训练</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>val</source>
        <translation>验证</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>test</source>
        <translation>测试</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>{split} {count}</source>
        <translation>{split} {count}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>no images</source>
        <translation>没有图像</translation>
    </message>
</context>
<context>
    <name>StatusBar</name>
    <message>
        <location filename="../../gui/status_bar.py" line="+65"/>
        <source>detecting hardware…</source>
        <translation>正在检测硬件…</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+48"/>
        <source>no run</source>
        <translation>无运行</translation>
    </message>
    <message>
        <location line="-44"/>
        <source>Where training runs, in which number format, on how many threads.</source>
        <translation>训练在哪里运行、使用哪种数值精度、使用多少个线程。</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>detecting the hardware</source>
        <translation>检测硬件</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>hardware: unknown</source>
        <translation>硬件：未知</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>preparing the engine</source>
        <translation>准备引擎</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>run: {name}</source>
        <translation>运行：{name}</translation>
    </message>
</context>
<context>
    <name>SweepDialog</name>
    <message>
        <location filename="../../gui/sweep_dialog.py" line="+26"/>
        <source>Automatic (recommended)</source>
        <translation>自动（推荐）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>LoRA on the last blocks (cached)</source>
        <translation>LoRA 只训练最后几个块（缓存）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>LoRA with augmentation (slow on a CPU)</source>
        <translation>带数据增强的 LoRA（在 CPU 上较慢）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Linear probe (fastest)</source>
        <translation>线性探测（最快）</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Sweep</source>
        <translation>超参数搜索</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Tries the settings of step 2 with other learning rates, LoRA sizes, dropout and augmentation, in short training runs, and keeps the best. Trials that fall behind are stopped early (pruned). Each trial is a run folder you can open; running the same sweep again continues it.</source>
        <translation>以第 2 步的设置为基础，通过多次短训练尝试其他学习率、LoRA 大小、丢弃率和数据增强，并保留最好的设置。落后的试验会被提前停止（剪枝）。每个试验都是一个可以打开的运行文件夹；再次运行同一搜索会继续它。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Trials in the sweep in all; a continued sweep runs only the missing ones.</source>
        <translation>这次搜索的试验总数；继续的搜索只运行尚缺的试验。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Trials:</source>
        <translation>试验数：</translation>
    </message>
    <message>
        <location line="+5"/>
        <source> min</source>
        <translation> 分钟</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>no limit</source>
        <translation>不限</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>No trial starts that would end after this time (0 = no limit).</source>
        <translation>会在这个时间之后才结束的试验不再启动（0 = 不限）。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Time budget:</source>
        <translation>时间预算：</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Automatic: on a CPU, LoRA on the last blocks with their frozen blocks computed once per image (or the linear probe for a probe config); on a GPU, LoRA with augmentation.</source>
        <translation>自动：在 CPU 上用 LoRA 只训练最后几个块，冻结块每张图片只算一次（基础配置是线性探测时则用线性探测）；在 GPU 上用带数据增强的 LoRA。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>What trains:</source>
        <translation>训练方式：</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>%v of %m trials</source>
        <translation>%v / %m 个试验</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Use this config</source>
        <translation>使用此配置</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Put the selected trial&apos;s settings (or the best one&apos;s) into step 2 (Config).</source>
        <translation>把选中试验（未选中时为最佳试验）的设置填入第 2 步（配置）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>The settings in step 2 need attention first: {problems}</source>
        <translation>请先处理第 2 步中的设置问题：{problems}</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Starting the sweep…</source>
        <translation>正在启动超参数搜索…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Stopping after the current step… The running trial is trained again when the sweep continues.</source>
        <translation>将在当前步之后停止… 继续搜索时，正在运行的试验会重新训练。</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>No trial has finished yet.</source>
        <translation>还没有试验完成。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Trial {n}&apos;s settings are now in step 2 (Config); its epochs stay yours ({epochs}).</source>
        <translation>试验 {n} 的设置已填入第 2 步（配置）；训练轮数仍为你的设置（{epochs}）。</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Stop the sweep?</source>
        <translation>停止超参数搜索？</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A sweep is running. Stop it and close? The running trial is trained again when you continue the sweep.</source>
        <translation>超参数搜索正在运行。停止并关闭吗？继续搜索时，正在运行的试验会重新训练。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Sweep folder: {folder}
{note}.</source>
        <translation>搜索文件夹：{folder}
{note}。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Trial {n}: epoch {epoch} of {epochs}…</source>
        <translation>试验 {n}：第 {epoch}/{epochs} 轮…</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>The sweep stopped: {error}</source>
        <translation>超参数搜索已停止：{error}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>All trials done.</source>
        <translation>所有试验已完成。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The time budget is used up.</source>
        <translation>时间预算已用完。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stopped; Start continues it.</source>
        <translation>已停止；点击“开始”可继续。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No trial completed.</source>
        <translation>没有完成的试验。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Best: trial {n}, validation accuracy {acc:.1%}. Its settings: {path}</source>
        <translation>最佳：试验 {n}，验证集准确率 {acc:.1%}。其设置：{path}</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Start runs the sweep on the settings of step 2 (Config).</source>
        <translation>点击“开始”，以第 2 步（配置）的设置运行超参数搜索。</translation>
    </message>
</context>
<context>
    <name>SweepTable</name>
    <message>
        <location filename="../../gui/widgets/sweep_table.py" line="+19"/>
        <source>Trial</source>
        <translation>试验</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Val accuracy</source>
        <translation>验证集准确率</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>LR</source>
        <translation>学习率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>r</source>
        <translation>r</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>alpha</source>
        <translation>alpha</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Last N</source>
        <translation>最后 N 块</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Dropout</source>
        <translation>丢弃率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Augmentation</source>
        <translation>数据增强</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Time</source>
        <translation>用时</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>complete</source>
        <translation>完成</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>pruned</source>
        <translation>已剪枝</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>crops+flips</source>
        <translation>裁剪+翻转</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>jitter {value:.2f}</source>
        <translation>颜色抖动 {value:.2f}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>MixUp {value:.2f}</source>
        <translation>MixUp {value:.2f}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>RandAugment {ops}×{magnitude}</source>
        <translation>RandAugment {ops}×{magnitude}</translation>
    </message>
    <message>
        <location line="+92"/>
        <source>all</source>
        <translation>全部</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>&lt; 1 s</source>
        <translation>&lt; 1 秒</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{value:.0f} s</source>
        <translation>{value:.0f} 秒</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{value:.1f} min</source>
        <translation>{value:.1f} 分钟</translation>
    </message>
</context>
<context>
    <name>ThumbnailModel</name>
    <message>
        <location filename="../../gui/widgets/image_grid.py" line="-48"/>
        <source>{path}
Cannot show this image: {problem}</source>
        <translation>{path}
无法显示此图像：{problem}</translation>
    </message>
</context>
<context>
    <name>TrainingPlots</name>
    <message>
        <location filename="../../gui/widgets/plots.py" line="+95"/>
        <source>{run} (val)</source>
        <translation>{run}（验证集）</translation>
    </message>
</context>
<context>
    <name>TrainingTab</name>
    <message>
        <location filename="../../gui/tabs/training_tab.py" line="+36"/>
        <source>Completed.</source>
        <translation>已完成。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Failed.</source>
        <translation>失败。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Interrupted.</source>
        <translation>已中断。</translation>
    </message>
    <message>
        <location line="+58"/>
        <source>Curves</source>
        <translation>曲线</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Evaluation</source>
        <translation>评估</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Compare runs</source>
        <translation>对比训练任务</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Open a run</source>
        <translation>打开训练任务</translation>
    </message>
    <message>
        <location line="+73"/>
        <source>Preparing…</source>
        <translation>准备中…</translation>
    </message>
    <message>
        <location line="+55"/>
        <source>Paused (the current step finishes first).</source>
        <translation>已暂停（当前步会先完成）。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Resumed.</source>
        <translation>已继续。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Stopping: saving the model trained so far…</source>
        <translation>正在停止：保存目前训练的模型…</translation>
    </message>
    <message>
        <location line="+49"/>
        <source>The run ended without a result.</source>
        <translation>训练任务已结束，但没有结果。</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Training failed</source>
        <translation>训练失败</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Training failed without a message.</source>
        <translation>训练失败，没有错误信息。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The log below the curves has the details. Fix the problem and press Start training again.</source>
        <translation>曲线下方的日志中有详细信息。解决问题后，再次点击“开始训练”。</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>{stage} · {progress}</source>
        <translation>{stage} · {progress}</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>{ended} At step {step} of {total} ({share}).</source>
        <translation>{ended}进行到第 {step}/{total} 步（{share}）。</translation>
    </message>
</context>
<context>
    <name>TrainingWorker</name>
    <message>
        <location filename="../../gui/worker.py" line="+148"/>
        <source>The training loop ended without reporting a result.</source>
        <translation>训练循环已结束，但没有报告结果。</translation>
    </message>
</context>
<context>
    <name>about</name>
    <message>
        <location filename="../../gui/about.py" line="+13"/>
        <source>development</source>
        <translation>开发版</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&lt;b&gt;LoRA Studio&lt;/b&gt; {version}&lt;br&gt;Fine-tunes a CLIP image encoder with LoRA into an image classifier: choose a folder of images, train, watch the curves, then drop images to classify them.&lt;br&gt;Built with PySide6, pyqtgraph, PyTorch, transformers and peft.</source>
        <translation>&lt;b&gt;LoRA Studio&lt;/b&gt; {version}&lt;br&gt;用 LoRA 将 CLIP 图像编码器微调为图像分类器：选择一个图片文件夹，开始训练，观察曲线，然后拖入图片进行分类。&lt;br&gt;基于 PySide6、pyqtgraph、PyTorch、transformers 和 peft 构建。</translation>
    </message>
</context>
<context>
    <name>errors</name>
    <message>
        <location filename="../../gui/errors.py" line="+84"/>
        <source>The details could not be written to a log file.</source>
        <translation>无法将详细信息写入日志文件。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The details are in {path}.</source>
        <translation>详细信息见 {path}。</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>⚠ “{action}” did not work: {message}</source>
        <translation>⚠ “{action}”未能完成：{message}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>⚠ The system refused ({error}). Check that the folder exists, that you may write to it and that the disk has space, then try again.</source>
        <translation>⚠ 系统拒绝了操作（{error}）。请检查文件夹是否存在、你是否有写入权限以及磁盘空间是否充足，然后重试。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>⚠ “{action}” did not work: the system refused ({error}). Check that the folder exists, that you may write to it and that the disk has space, then try again.</source>
        <translation>⚠ “{action}”未能完成：系统拒绝了操作（{error}）。请检查文件夹是否存在、你是否有写入权限以及磁盘空间是否充足，然后重试。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>⚠ Something went wrong in “{action}”: {kind}: {error}. This is probably a bug in LoRA Studio; please report it.</source>
        <translation>⚠ “{action}”出错：{kind}：{error}。这很可能是 LoRA Studio 的缺陷，请报告此问题。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>⚠ Something went wrong: {kind}: {error}. This is probably a bug in LoRA Studio; please report it.</source>
        <translation>⚠ 出错了：{kind}：{error}。这很可能是 LoRA Studio 的缺陷，请报告此问题。</translation>
    </message>
</context>
<context>
    <name>evaluation_view</name>
    <message>
        <location filename="../../gui/widgets/evaluation_texts.py" line="+15"/>
        <source>test</source>
        <translation>测试集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>val</source>
        <translation>验证集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>train</source>
        <translation>训练集</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>&lt;b&gt;Accuracy {accuracy}&lt;/b&gt;</source>
        <translation>&lt;b&gt;准确率 {accuracy}&lt;/b&gt;</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>top-5 {accuracy}</source>
        <translation>top-5 准确率 {accuracy}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{count} {split} images</source>
        <translation>{count} 张{split}图片</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{count} mistake</source>
        <translation>{count} 个错误</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{count} mistakes</source>
        <translation>{count} 个错误</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{count} classes</source>
        <translation>{count} 个类别</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>calibration error {error} (uncalibrated: temperature scaling did not help on held-out validation images)</source>
        <translation>校准误差 {error}（未校准：温度缩放在留出的验证集图片上没有改善）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>calibration error {error} (uncalibrated: too few validation images)</source>
        <translation>校准误差 {error}（未校准：验证集图片太少）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>calibration error {error} (uncalibrated: no mistakes on the validation images to calibrate against)</source>
        <translation>校准误差 {error}（未校准：验证集图片上没有可用于校准的错误）</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>calibration error {error} ({before} uncalibrated; temperature {temperature:.2f})</source>
        <translation>校准误差 {error}（未校准时 {before}；温度 {temperature:.2f}）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>calibration error {error} (uncalibrated)</source>
        <translation>校准误差 {error}（未校准）</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>{count} correct image: true &lt;b&gt;{true}&lt;/b&gt;, predicted &lt;b&gt;{predicted}&lt;/b&gt;</source>
        <translation>{count} 张预测正确的图片：真实 &lt;b&gt;{true}&lt;/b&gt;，预测 &lt;b&gt;{predicted}&lt;/b&gt;</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{count} correct images: true &lt;b&gt;{true}&lt;/b&gt;, predicted &lt;b&gt;{predicted}&lt;/b&gt;</source>
        <translation>{count} 张预测正确的图片：真实 &lt;b&gt;{true}&lt;/b&gt;，预测 &lt;b&gt;{predicted}&lt;/b&gt;</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{count} mistaken image: true &lt;b&gt;{true}&lt;/b&gt;, predicted &lt;b&gt;{predicted}&lt;/b&gt;</source>
        <translation>{count} 张预测错误的图片：真实 &lt;b&gt;{true}&lt;/b&gt;，预测 &lt;b&gt;{predicted}&lt;/b&gt;</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{count} mistaken images: true &lt;b&gt;{true}&lt;/b&gt;, predicted &lt;b&gt;{predicted}&lt;/b&gt;</source>
        <translation>{count} 张预测错误的图片：真实 &lt;b&gt;{true}&lt;/b&gt;，预测 &lt;b&gt;{predicted}&lt;/b&gt;</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{cell} — showing the first {count}</source>
        <translation>{cell}——仅显示前 {count} 张</translation>
    </message>
</context>
<context>
    <name>event_text</name>
    <message>
        <location filename="../../gui/event_text.py" line="+15"/>
        <source>train</source>
        <translation>训练集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>val</source>
        <translation>验证集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>test</source>
        <translation>测试集</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Run {name}: {classes} classes, {images} training images, {steps} steps on {device} ({precision}), resumed at step {start}; {trainable} of {total} parameters train.</source>
        <translation>训练任务 {name}：{classes} 个类别，{images} 张训练图像，在 {device}（{precision}）上训练 {steps} 步，从第 {start} 步继续；{total} 个参数中有 {trainable} 个参与训练。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Run {name}: {classes} classes, {images} training images, {steps} steps on {device} ({precision}); {trainable} of {total} parameters train.</source>
        <translation>训练任务 {name}：{classes} 个类别，{images} 张训练图像，在 {device}（{precision}）上训练 {steps} 步；{total} 个参数中有 {trainable} 个参与训练。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Saved the best checkpoint (epoch {epoch}).</source>
        <translation>已保存最佳检查点（第 {epoch} 轮）。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Saved the last checkpoint (epoch {epoch}).</source>
        <translation>已保存最新检查点（第 {epoch} 轮）。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Saved the final checkpoint (epoch {epoch}).</source>
        <translation>已保存最终检查点（第 {epoch} 轮）。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Saved the {label} checkpoint (epoch {epoch}).</source>
        <translation>已保存 {label} 检查点（第 {epoch} 轮）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Stopped early after epoch {epoch}: validation accuracy did not improve for {patience} epoch(s); the best was epoch {best_epoch}.</source>
        <translation>在第 {epoch} 轮后提前停止：验证集准确率连续 {patience} 轮没有提升；最佳为第 {best_epoch} 轮。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>{split} accuracy zero-shot (before training): {accuracy}, loss {loss} — best so far</source>
        <translation>{split}准确率（零样本，训练前）：{accuracy}，损失 {loss} — 目前最佳</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{split} accuracy zero-shot (before training): {accuracy}, loss {loss}</source>
        <translation>{split}准确率（零样本，训练前）：{accuracy}，损失 {loss}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{split} accuracy epoch {epoch}: {accuracy}, loss {loss} — best so far</source>
        <translation>{split}准确率（第 {epoch} 轮）：{accuracy}，损失 {loss} — 目前最佳</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{split} accuracy epoch {epoch}: {accuracy}, loss {loss}</source>
        <translation>{split}准确率（第 {epoch} 轮）：{accuracy}，损失 {loss}</translation>
    </message>
</context>
<context>
    <name>format</name>
    <message>
        <location filename="../../gui/format.py" line="+10"/>
        <source>completed</source>
        <translation>已完成</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>damaged</source>
        <translation>已损坏</translation>
    </message>
    <message>
        <location line="+18"/>
        <location line="+13"/>
        <source>{value} %</source>
        <translation>{value}%</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>{status} · best val {accuracy}</source>
        <translation>{status} · 最佳验证准确率 {accuracy}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Preparing…</source>
        <translation>准备中…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>epoch {epoch}/{epochs} · step {step}/{total} · {share} % · {rate} img/s · {left} left</source>
        <translation>第 {epoch}/{epochs} 轮 · 第 {step}/{total} 步 · {share}% · {rate} 图/秒 · 剩余 {left}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Paused · {progress}</source>
        <translation>已暂停 · {progress}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Stopping… · {progress}</source>
        <translation>正在停止… · {progress}</translation>
    </message>
</context>
<context>
    <name>model_picker</name>
    <message>
        <location filename="../../gui/widgets/model_picker.py" line="-215"/>
        <source>Ready: {family}, {size} px images, {dim}-dim embeddings, {params} M image-encoder parameters.</source>
        <translation>可以使用：{family}，{size} px 图像，{dim} 维嵌入，图像编码器 {params} M 参数。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>It has no text tower: the classifier starts from the class prototypes (mean image of each class).</source>
        <translation>它没有文本编码器：分类头将从类别原型（每个类别图像的均值）开始。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Its class names cannot be read as text: {reason}. The classifier starts from the class prototypes (mean image of each class), and zero-shot is not available.</source>
        <translation>无法把类别名称作为文本读取：{reason}。分类器从类别原型（每个类别的平均图像）开始，零样本不可用。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>This is the untrained demo model: good for trying the app, not for real photos.</source>
        <translation>这是未经训练的演示模型：适合试用本软件，不适合真实照片。</translation>
    </message>
</context>
<context>
    <name>prediction_results</name>
    <message>
        <location filename="../../gui/widgets/prediction_results.py" line="-120"/>
        <source>{title}: not predicted: {error}. Check the file, or save it as JPEG or PNG and add it again.</source>
        <translation>{title}：未预测：{error}。请检查该文件，或将其另存为 JPEG 或 PNG 后重新添加。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>{title}: not sure (none of the classes fits well): {labels}</source>
        <translation>{title}：不确定（没有哪个类别很吻合）：{labels}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{title}: {labels} (low confidence)</source>
        <translation>{title}：{labels}（置信度低）</translation>
    </message>
</context>
<context>
    <name>prediction_tab</name>
    <message>
        <location filename="../../gui/tabs/prediction_tab.py" line="-182"/>
        <source>{names} and {count} more</source>
        <translation>{names} 等另外 {count} 个</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Using {run}: {count} classes ({names}).</source>
        <translation>正在使用 {run}：{count} 个类别（{names}）。</translation>
    </message>
</context>
<context>
    <name>run_chooser</name>
    <message>
        <location filename="../../gui/widgets/run_chooser.py" line="-51"/>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>damaged</source>
        <translation>已损坏</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>{run} · val {accuracy:.1f} %</source>
        <translation>{run} · 验证集 {accuracy:.1f} %</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>{run} ({status})</source>
        <translation>{run}（{status}）</translation>
    </message>
</context>
<context>
    <name>status_bar</name>
    <message>
        <location filename="../../gui/status_bar.py" line="-85"/>
        <source>{where} · {precision} · {n} thread</source>
        <translation>{where} · {precision} · {n} 个线程</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{where} · {precision} · {n} threads</source>
        <translation>{where} · {precision} · {n} 个线程</translation>
    </message>
</context>
<context>
    <name>worker</name>
    <message>
        <location filename="../../gui/worker.py" line="-97"/>
        <source>Training stopped with an unexpected error ({error}). The log below has the details; please report it if it happens again.</source>
        <translation>训练因意外错误而停止（{error}）。下方日志中有详细信息；如果再次出现，请报告此问题。</translation>
    </message>
</context>
</TS>
