"""Made-up passages (no data set holds them), each with a question, a right claim and an intrinsic swap: another
name, number or date *of the same passage* in its place — every word of the swap is in the source. Written before
any model was scored on them; the bar for a verifier model before it ships."""

# (source, question, right claim, intrinsic swap)
CASES = {
    "en": [
        (
            "The Lindqvist Observatory stands on a hill above the town of Varberg. Maria Keller founded the "
            "observatory in 1931, and her student Tomas Brandt directed it from 1948 until 1960.",
            "Who founded the Lindqvist Observatory?",
            "Maria Keller founded the Lindqvist Observatory in 1931.",
            "Tomas Brandt founded the Lindqvist Observatory in 1931.",
        ),
        (
            "In the final, the Harbor City Gulls beat the Red Valley Foxes 31 to 17. Ana Ruiz coached the Gulls "
            "that season, and Ben Ortiz was their quarterback.",
            "Who coached the Harbor City Gulls?",
            "Ana Ruiz coached the Harbor City Gulls.",
            "Ben Ortiz coached the Harbor City Gulls.",
        ),
        (
            "The Aldren Bridge crosses the Meuse River at Liège. Construction began in 1874 and the bridge opened "
            "in 1879; it was rebuilt after a flood in 1926.",
            "When did the Aldren Bridge open?",
            "The Aldren Bridge opened in 1879.",
            "The Aldren Bridge opened in 1874.",
        ),
        (
            "Helen Park wrote the novel The Quiet Harbour, and her brother David Park illustrated its first "
            "edition, published by Norwood Press in 1962.",
            "Who wrote The Quiet Harbour?",
            "Helen Park wrote The Quiet Harbour.",
            "David Park wrote The Quiet Harbour.",
        ),
    ],
    "zh": [
        (
            "青石镇天文台建在镇北的山坡上。王丽华于1931年创建了这座天文台，她的学生李建国在1948年至1960年间担任台长。",
            "谁创建了青石镇天文台？",
            "王丽华创建了青石镇天文台。",
            "李建国创建了青石镇天文台。",
        ),
        (
            "在决赛中，海港队以31比17击败了红谷队。海港队的四分卫传出了3次达阵，防守组完成了2次抄截。",
            "海港队的四分卫传出了几次达阵？",
            "海港队的四分卫传出了3次达阵。",
            "海港队的四分卫传出了2次达阵。",
        ),
        (
            "云河大桥横跨清江。大桥于1874年开工，1879年建成通车，1926年洪水后重建。",
            "云河大桥哪一年建成通车？",
            "云河大桥于1879年建成通车。",
            "云河大桥于1874年建成通车。",
        ),
        (
            "小说《静港》由张晓梅创作，她的哥哥张明为第一版绘制了插图，该书于1962年由北林出版社出版。",
            "《静港》的作者是谁？",
            "《静港》由张晓梅创作。",
            "《静港》由张明创作。",
        ),
    ],
}
