"""The grader's own words, in the language of the edition being graded.

Everything a student reads about their grade (the test cells of the autograded
notebook, the feedback page, the gradebook's comments) is written here or by
``test_utils`` (the same comparison and diagnoses as the visible tests). For a
hidden case these words are all the student gets: which case, by its sizes, and
what kind of failure.
"""

from __future__ import annotations

from .. import EDITIONS

TEXTS = {
    "visible_case": ("the visible case", "可见用例"),
    "hidden_case": ("hidden case {number} ({description})", "隐藏用例 {number}（{description}）"),
    "passed": ("{name}: all visible and hidden tests passed.", "{name}：可见测试和隐藏测试全部通过。"),
    "missing": ("{name} is not defined in the notebook", "笔记本中没有定义 {name}"),
    "not_implemented": (
        "{name} is not implemented yet (it raises NotImplementedError)",
        "{name} 还没有实现（它抛出 NotImplementedError）",
    ),
    "raised": ("{label}: {name} raised {error}", "{label}：{name} 抛出了 {error}"),
    "memory": ("{label}: {name} ran out of memory", "{label}：{name} 内存不足"),
    "timeout": (
        "{label}: {name} did not finish within {seconds:g} s of CPU time",
        "{label}：{name} 在 {seconds:g} 秒 CPU 时间内没有结束",
    ),
    "died": ("{label}: the kernel died while {name} ran", "{label}：运行 {name} 时内核崩溃了"),
    "no_report": ("{label}: no result was reported ({why})", "{label}：没有得到结果（{why}）"),
    "unreadable": ("{label}: the result could not be read", "{label}：无法读取返回的结果"),
    "unreportable": (
        "{label}: {name} returned a value that cannot be reported",
        "{label}：{name} 返回的值无法传回评分程序",
    ),
    "returned_type": ("{label}: {name} returned a {type}", "{label}：{name} 返回了 {type}"),
    "unexpected": ("{label}: {name} returned an unexpected value", "{label}：{name} 返回了意料之外的值"),
    "wrong": ("{label}: {text}.", "{label}：{text}。"),
    "hint": (" Hint: {hint}", " 提示：{hint}"),
    "rejected": ("{label}: {name} called {helper} wrongly: {why}", "{label}：{name} 调用 {helper} 的方式不对：{why}"),
    "too_many_calls": (
        "{name} made more than {count} calls to the other graded functions",
        "{name} 调用其他评分函数超过了 {count} 次",
    ),
    "time_up": ("not graded in time: the submission's time limit was reached", "来不及评分：已用完这份作业的时间"),
    "traffic_up": (
        "not graded: the notebook's kernels sent the grader more than {mb} MB",
        "未评分：这份作业的内核向评分程序发送了超过 {mb} MB 的数据",
    ),
    "cell_traffic_up": (
        "[grader] not run: the notebook's kernels sent the grader more than {mb} MB",
        "[评分程序] 没有运行：这份作业的内核向评分程序发送了超过 {mb} MB 的数据",
    ),
    "cell_too_many": (
        "[grader] not run: a notebook's first {count} code cells are run (and its answers), no more",
        "[评分程序] 没有运行：每份作业只运行前 {count} 个代码单元格（以及答案单元格）",
    ),
    "cell_explore": ("[not run while grading: tagged 'explore']", "[评分时不运行：带有 'explore' 标签]"),
    "cell_time_up": (
        "[grader] not run: the submission's time limit was reached",
        "[评分程序] 没有运行：已用完这份作业的时间",
    ),
    "cell_stopped": (
        "[grader] stopped: this cell ran longer than {seconds:g} s of CPU time",
        "[评分程序] 已停止：这个单元格运行超过了 {seconds:g} 秒 CPU 时间",
    ),
    "cell_protocol": (
        "[grader] this cell sent the grader messages it could not read (forged or malformed); the kernel was "
        "restarted without it",
        "[评分程序] 这个单元格向评分程序发送了无法读取的消息（伪造或格式错误）；内核已重启，并跳过了它",
    ),
    "protocol": (
        "{label}: the kernel sent the grader a message it could not read while {name} ran",
        "{label}：运行 {name} 时，内核向评分程序发送了无法读取的消息",
    ),
    "own_exception": ("an exception of its own class", "一个自定义的异常"),
    "own_type": ("value of a type of its own", "自定义类型的值"),
    "non_numeric_array": ("numpy array that is not numeric", "非数值的 numpy 数组"),
    "intercepted": ("the probe was intercepted", "测试代码被拦截了"),
    "unreadable_call": ("a call that cannot be read", "无法读取的调用"),
    "not_available": ("it is not available here", "这里不能调用它"),
    "labelled": ("{label}: {text}", "{label}：{text}"),
    "queued": (  # feedback on submit: the page in place of the feedback, while the submission waits
        "Your submission of {timestamp} is queued: each student gets at most {gradings} every "
        "{minutes} minutes. It will be graded at about {at} UTC, and its feedback will replace this page.",
        "你在 {timestamp} 提交的作业正在排队：每位学生每 {minutes} 分钟最多评分 {limit} 次。"
        "它将在 {at} UTC 左右评分，届时反馈会替换本页。",
    ),
    "late_by": ("Submitted {hours} hours after the due date.", "在截止时间之后 {hours} 小时提交。"),
    "late_kept": (  # feedback on submit, when the instructor keeps work after the due date ungraded (watch --late keep)
        "Your submission of {timestamp} came after the due date ({due} UTC): it is kept but not graded, and "
        "your grade is that of your last submission before the due date.",
        "你在 {timestamp} 提交的作业晚于截止时间（{due} UTC）：它已保存但不评分，你的成绩是截止前最后一次提交的成绩。",
    ),
    "passed_short": ("Passed.", "通过。"),
    "cell_died": (
        "[grader] the kernel died while running this cell; it was skipped",
        "[评分程序] 运行这个单元格时内核崩溃了，已跳过它",
    ),
    "grading": (  # feedback on submit: the page in place of the feedback, while the submission is graded
        "Your submission of {timestamp} is being graded (started at {started} UTC). Its feedback will replace "
        "this page at about {at} UTC, in about {seconds} seconds: fetch the feedback again then.",
        "你在 {timestamp} 提交的作业正在评分（{started} UTC 开始）。反馈大约在 {at} UTC（约 {seconds} 秒后）"
        "替换本页：届时请再获取一次反馈。",
    ),
    "not_graded_notebook": (  # the page of a notebook handed in beside the assignment that nothing grades
        "{notebook} is not graded. Your feedback is on the page of {assignment}.",
        "{notebook} 不计分。你的反馈在 {assignment} 的页面上。",
    ),
    # The feedback page's frame (nbgrader's template, in the edition's language).
    "page_score": ("Score", "得分"),
    "page_top": ("Top", "回到顶部"),
    "page_comments": ("Comments:", "评语："),
    "page_student_answer": ("Student's answer", "学生的答案"),
    "page_student_task": ("Student's task", "学生的任务"),
    "page_test_cell": ("Test cell", "测试单元格"),
    "page_late_penalty": ("Late submission penalty", "迟交扣分"),
    "page_summary": ("What each function scored, and why", "每个函数的得分和原因"),
    "page_function": ("function", "函数"),
    "page_points": ("points", "得分"),
    "page_verdict": ("verdict", "结论"),
    "page_why": ("why", "原因"),
    "open_feedback": ("Open the feedback of {assignment}", "打开 {assignment} 的反馈"),
    # Verdicts in the page's summary, one per outcome (results.Outcome).
    "verdict_passed": ("passed", "通过"),
    "verdict_failed": ("wrong result", "结果不对"),
    "verdict_error": ("error", "出错"),
    "verdict_timeout": ("too slow", "超时"),
    "verdict_kernel died": ("kernel died", "内核崩溃"),
    "verdict_memory limit": ("out of memory", "内存不足"),
    "verdict_missing": ("missing", "缺失"),
    "verdict_not run": ("not run", "未运行"),
    "verdict_not graded": ("not graded", "未评分"),
}

# The words of the feedback page's frame, as the template names them (``feedback.frame_words``).
PAGE_WORDS = tuple(key for key in TEXTS if key.startswith("page_"))


def language(assignment: str) -> str:
    return EDITIONS.get(assignment, "en")


def say(language_: str, text_id: str, **fields) -> str:
    return TEXTS[text_id][language_ == "zh"].format(**fields)


def page_words(language_: str) -> dict[str, str]:
    """The feedback page's frame in one language: PAGE_WORDS, by key."""
    return {key: say(language_, key) for key in PAGE_WORDS}
