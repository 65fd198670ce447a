"""Place names for the demo organisation: one province, its cities, counties and outlet names.

Real geography (Zhejiang's 11 cities and 90 county-level divisions) so the demo reads like a real
deployment; every figure attached to these names is generated and labelled as demo data.
"""

from __future__ import annotations

HQ = ("HQ", "电网公司总部", "Grid Company HQ")
PROVINCE = ("ZJ", "浙江省电力公司", "Zhejiang Electric Power")

# city code, zh, en, economic level 0..1 (drives the demo's regional differences), counties (zh, en)
CITIES: tuple[tuple[str, str, str, float, tuple[tuple[str, str], ...]], ...] = (
    ("HZ", "杭州", "Hangzhou", 0.70, (
        ("上城区", "Shangcheng"), ("拱墅区", "Gongshu"), ("西湖区", "Xihu"), ("滨江区", "Binjiang"),
        ("萧山区", "Xiaoshan"), ("余杭区", "Yuhang"), ("临平区", "Linping"), ("钱塘区", "Qiantang"),
        ("富阳区", "Fuyang"), ("临安区", "Lin'an"), ("桐庐县", "Tonglu"), ("淳安县", "Chun'an"),
        ("建德市", "Jiande"))),
    ("NB", "宁波", "Ningbo", 0.62, (
        ("海曙区", "Haishu"), ("江北区", "Jiangbei"), ("北仑区", "Beilun"), ("镇海区", "Zhenhai"),
        ("鄞州区", "Yinzhou"), ("奉化区", "Fenghua"), ("象山县", "Xiangshan"), ("宁海县", "Ninghai"),
        ("余姚市", "Yuyao"), ("慈溪市", "Cixi"))),
    ("WZ", "温州", "Wenzhou", 0.50, (
        ("鹿城区", "Lucheng"), ("龙湾区", "Longwan"), ("瓯海区", "Ouhai"), ("洞头区", "Dongtou"),
        ("永嘉县", "Yongjia"), ("平阳县", "Pingyang"), ("苍南县", "Cangnan"), ("文成县", "Wencheng"),
        ("泰顺县", "Taishun"), ("瑞安市", "Rui'an"), ("乐清市", "Yueqing"), ("龙港市", "Longgang"))),
    ("LS", "丽水", "Lishui", 0.30, (
        ("莲都区", "Liandu"), ("青田县", "Qingtian"), ("缙云县", "Jinyun"), ("遂昌县", "Suichang"),
        ("松阳县", "Songyang"), ("云和县", "Yunhe"), ("庆元县", "Qingyuan"),
        ("景宁畲族自治县", "Jingning"), ("龙泉市", "Longquan"))),
    ("JX", "嘉兴", "Jiaxing", 0.56, (
        ("南湖区", "Nanhu"), ("秀洲区", "Xiuzhou"), ("嘉善县", "Jiashan"), ("海盐县", "Haiyan"),
        ("海宁市", "Haining"), ("平湖市", "Pinghu"), ("桐乡市", "Tongxiang"))),
    ("HU", "湖州", "Huzhou", 0.50, (
        ("吴兴区", "Wuxing"), ("南浔区", "Nanxun"), ("德清县", "Deqing"), ("长兴县", "Changxing"),
        ("安吉县", "Anji"))),
    ("SX", "绍兴", "Shaoxing", 0.55, (
        ("越城区", "Yuecheng"), ("柯桥区", "Keqiao"), ("上虞区", "Shangyu"), ("新昌县", "Xinchang"),
        ("诸暨市", "Zhuji"), ("嵊州市", "Shengzhou"))),
    ("JH", "金华", "Jinhua", 0.45, (
        ("婺城区", "Wucheng"), ("金东区", "Jindong"), ("武义县", "Wuyi"), ("浦江县", "Pujiang"),
        ("磐安县", "Pan'an"), ("兰溪市", "Lanxi"), ("义乌市", "Yiwu"), ("东阳市", "Dongyang"),
        ("永康市", "Yongkang"))),
    ("QZ", "衢州", "Quzhou", 0.35, (
        ("柯城区", "Kecheng"), ("衢江区", "Qujiang"), ("常山县", "Changshan"), ("开化县", "Kaihua"),
        ("龙游县", "Longyou"), ("江山市", "Jiangshan"))),
    ("ZS", "舟山", "Zhoushan", 0.42, (
        ("定海区", "Dinghai"), ("普陀区", "Putuo"), ("岱山县", "Daishan"), ("嵊泗县", "Shengsi"))),
    ("TZ", "台州", "Taizhou", 0.46, (
        ("椒江区", "Jiaojiang"), ("黄岩区", "Huangyan"), ("路桥区", "Luqiao"), ("三门县", "Sanmen"),
        ("天台县", "Tiantai"), ("仙居县", "Xianju"), ("温岭市", "Wenling"), ("临海市", "Linhai"),
        ("玉环市", "Yuhuan"))),
)

# Outlet names inside a county: (zh, en, is_service_hall)
OUTLETS = (
    ("城区供电所", "Urban Supply Station", False),
    ("中心营业厅", "Central Service Hall", True),
    ("城东供电所", "Chengdong Supply Station", False),
    ("城西供电所", "Chengxi Supply Station", False),
    ("城南供电所", "Chengnan Supply Station", False),
    ("城北供电所", "Chengbei Supply Station", False),
    ("新区供电所", "New District Supply Station", False),
)

# The State Grid's 27 provincial companies (../shared/DOMAIN.md, "The national tier"), Zhejiang first:
# code, zh, en, economic level 0..1, and the city companies (地市公司) under each (zh, en). Zhejiang's
# cities and counties are the real ones above; for the other provinces the city names are real and
# the county companies are named by part of the city (城区, 东区, ...), since the demo needs their
# number more than their names.
PROVINCES: tuple[tuple[str, str, str, float, tuple[tuple[str, str], ...]], ...] = (
    ("ZJ", "浙江", "Zhejiang", 0.55, ()),
    ("JS", "江苏", "Jiangsu", 0.68, (
        ("南京", "Nanjing"), ("无锡", "Wuxi"), ("徐州", "Xuzhou"), ("常州", "Changzhou"),
        ("苏州", "Suzhou"), ("南通", "Nantong"), ("连云港", "Lianyungang"), ("淮安", "Huai'an"),
        ("盐城", "Yancheng"), ("扬州", "Yangzhou"), ("镇江", "Zhenjiang"), ("泰州", "Taizhou"),
        ("宿迁", "Suqian"))),
    ("AH", "安徽", "Anhui", 0.42, (
        ("合肥", "Hefei"), ("芜湖", "Wuhu"), ("蚌埠", "Bengbu"), ("淮南", "Huainan"),
        ("马鞍山", "Ma'anshan"), ("淮北", "Huaibei"), ("铜陵", "Tongling"), ("安庆", "Anqing"),
        ("黄山", "Huangshan"), ("滁州", "Chuzhou"), ("阜阳", "Fuyang"), ("宿州", "Suzhou"),
        ("六安", "Lu'an"), ("亳州", "Bozhou"), ("池州", "Chizhou"), ("宣城", "Xuancheng"))),
    ("BJ", "北京", "Beijing", 0.80, (
        ("城区", "Urban"), ("朝阳", "Chaoyang"), ("海淀", "Haidian"), ("丰台", "Fengtai"),
        ("石景山", "Shijingshan"), ("门头沟", "Mentougou"), ("房山", "Fangshan"),
        ("通州", "Tongzhou"), ("顺义", "Shunyi"), ("昌平", "Changping"), ("大兴", "Daxing"),
        ("怀柔", "Huairou"), ("平谷", "Pinggu"), ("密云", "Miyun"), ("延庆", "Yanqing"))),
    ("TJ", "天津", "Tianjin", 0.64, (
        ("城东", "Chengdong"), ("城西", "Chengxi"), ("城南", "Chengnan"), ("滨海", "Binhai"),
        ("东丽", "Dongli"), ("西青", "Xiqing"), ("津南", "Jinnan"), ("北辰", "Beichen"),
        ("武清", "Wuqing"), ("宝坻", "Baodi"), ("宁河", "Ninghe"), ("静海", "Jinghai"),
        ("蓟州", "Jizhou"))),
    ("HE", "河北", "Hebei", 0.40, (
        ("石家庄", "Shijiazhuang"), ("保定", "Baoding"), ("邢台", "Xingtai"), ("邯郸", "Handan"),
        ("衡水", "Hengshui"), ("沧州", "Cangzhou"), ("雄安", "Xiong'an"))),
    ("JB", "冀北", "Jibei", 0.40, (
        ("唐山", "Tangshan"), ("张家口", "Zhangjiakou"), ("承德", "Chengde"), ("廊坊", "Langfang"),
        ("秦皇岛", "Qinhuangdao"))),
    ("SX", "山西", "Shanxi", 0.36, (
        ("太原", "Taiyuan"), ("大同", "Datong"), ("阳泉", "Yangquan"), ("长治", "Changzhi"),
        ("晋城", "Jincheng"), ("朔州", "Shuozhou"), ("晋中", "Jinzhong"), ("运城", "Yuncheng"),
        ("忻州", "Xinzhou"), ("临汾", "Linfen"), ("吕梁", "Lüliang"))),
    ("SD", "山东", "Shandong", 0.55, (
        ("济南", "Jinan"), ("青岛", "Qingdao"), ("淄博", "Zibo"), ("枣庄", "Zaozhuang"),
        ("东营", "Dongying"), ("烟台", "Yantai"), ("潍坊", "Weifang"), ("济宁", "Jining"),
        ("泰安", "Tai'an"), ("威海", "Weihai"), ("日照", "Rizhao"), ("临沂", "Linyi"),
        ("德州", "Dezhou"), ("聊城", "Liaocheng"), ("滨州", "Binzhou"), ("菏泽", "Heze"))),
    ("SH", "上海", "Shanghai", 0.80, (
        ("市区", "Urban"), ("市北", "Shibei"), ("市南", "Shinan"), ("浦东", "Pudong"),
        ("嘉定", "Jiading"), ("松江", "Songjiang"), ("青浦", "Qingpu"), ("金山", "Jinshan"),
        ("奉贤", "Fengxian"), ("崇明", "Chongming"))),
    ("FJ", "福建", "Fujian", 0.58, (
        ("福州", "Fuzhou"), ("厦门", "Xiamen"), ("莆田", "Putian"), ("三明", "Sanming"),
        ("泉州", "Quanzhou"), ("漳州", "Zhangzhou"), ("南平", "Nanping"), ("龙岩", "Longyan"),
        ("宁德", "Ningde"))),
    ("HB", "湖北", "Hubei", 0.48, (
        ("武汉", "Wuhan"), ("黄石", "Huangshi"), ("十堰", "Shiyan"), ("宜昌", "Yichang"),
        ("襄阳", "Xiangyang"), ("鄂州", "Ezhou"), ("荆门", "Jingmen"), ("孝感", "Xiaogan"),
        ("荆州", "Jingzhou"), ("黄冈", "Huanggang"), ("咸宁", "Xianning"), ("随州", "Suizhou"),
        ("恩施", "Enshi"))),
    ("HN", "湖南", "Hunan", 0.44, (
        ("长沙", "Changsha"), ("株洲", "Zhuzhou"), ("湘潭", "Xiangtan"), ("衡阳", "Hengyang"),
        ("邵阳", "Shaoyang"), ("岳阳", "Yueyang"), ("常德", "Changde"), ("张家界", "Zhangjiajie"),
        ("益阳", "Yiyang"), ("郴州", "Chenzhou"), ("永州", "Yongzhou"), ("怀化", "Huaihua"),
        ("娄底", "Loudi"), ("湘西", "Xiangxi"))),
    ("HA", "河南", "Henan", 0.42, (
        ("郑州", "Zhengzhou"), ("开封", "Kaifeng"), ("洛阳", "Luoyang"), ("平顶山", "Pingdingshan"),
        ("安阳", "Anyang"), ("鹤壁", "Hebi"), ("新乡", "Xinxiang"), ("焦作", "Jiaozuo"),
        ("濮阳", "Puyang"), ("许昌", "Xuchang"), ("漯河", "Luohe"), ("三门峡", "Sanmenxia"),
        ("南阳", "Nanyang"), ("商丘", "Shangqiu"), ("信阳", "Xinyang"), ("周口", "Zhoukou"),
        ("驻马店", "Zhumadian"), ("济源", "Jiyuan"))),
    ("JX", "江西", "Jiangxi", 0.40, (
        ("南昌", "Nanchang"), ("景德镇", "Jingdezhen"), ("萍乡", "Pingxiang"), ("九江", "Jiujiang"),
        ("新余", "Xinyu"), ("鹰潭", "Yingtan"), ("赣州", "Ganzhou"), ("吉安", "Ji'an"),
        ("宜春", "Yichun"), ("抚州", "Fuzhou"), ("上饶", "Shangrao"))),
    ("SC", "四川", "Sichuan", 0.40, (
        ("成都", "Chengdu"), ("自贡", "Zigong"), ("攀枝花", "Panzhihua"), ("泸州", "Luzhou"),
        ("德阳", "Deyang"), ("绵阳", "Mianyang"), ("广元", "Guangyuan"), ("遂宁", "Suining"),
        ("内江", "Neijiang"), ("乐山", "Leshan"), ("南充", "Nanchong"), ("眉山", "Meishan"),
        ("宜宾", "Yibin"), ("广安", "Guang'an"), ("达州", "Dazhou"), ("雅安", "Ya'an"),
        ("巴中", "Bazhong"), ("资阳", "Ziyang"), ("阿坝", "Aba"), ("甘孜", "Garzê"),
        ("凉山", "Liangshan"))),
    ("CQ", "重庆", "Chongqing", 0.50, (
        ("市区", "Urban"), ("市北", "Shibei"), ("市南", "Shinan"), ("江北", "Jiangbei"),
        ("永川", "Yongchuan"), ("江津", "Jiangjin"), ("长寿", "Changshou"), ("万州", "Wanzhou"),
        ("涪陵", "Fuling"), ("黔江", "Qianjiang"))),
    ("LN", "辽宁", "Liaoning", 0.46, (
        ("沈阳", "Shenyang"), ("大连", "Dalian"), ("鞍山", "Anshan"), ("抚顺", "Fushun"),
        ("本溪", "Benxi"), ("丹东", "Dandong"), ("锦州", "Jinzhou"), ("营口", "Yingkou"),
        ("阜新", "Fuxin"), ("辽阳", "Liaoyang"), ("铁岭", "Tieling"), ("朝阳", "Chaoyang"),
        ("盘锦", "Panjin"), ("葫芦岛", "Huludao"))),
    ("JL", "吉林", "Jilin", 0.38, (
        ("长春", "Changchun"), ("吉林", "Jilin"), ("四平", "Siping"), ("辽源", "Liaoyuan"),
        ("通化", "Tonghua"), ("白山", "Baishan"), ("松原", "Songyuan"), ("白城", "Baicheng"),
        ("延边", "Yanbian"))),
    ("HL", "黑龙江", "Heilongjiang", 0.34, (
        ("哈尔滨", "Harbin"), ("齐齐哈尔", "Qiqihar"), ("鸡西", "Jixi"), ("鹤岗", "Hegang"),
        ("双鸭山", "Shuangyashan"), ("大庆", "Daqing"), ("伊春", "Yichun"), ("佳木斯", "Jiamusi"),
        ("七台河", "Qitaihe"), ("牡丹江", "Mudanjiang"), ("黑河", "Heihe"), ("绥化", "Suihua"),
        ("大兴安岭", "Da Hinggan Ling"))),
    ("MD", "蒙东", "Mengdong", 0.32, (
        ("呼伦贝尔", "Hulunbuir"), ("兴安", "Hinggan"), ("通辽", "Tongliao"), ("赤峰", "Chifeng"))),
    ("SN", "陕西", "Shaanxi", 0.42, (
        ("西安", "Xi'an"), ("铜川", "Tongchuan"), ("宝鸡", "Baoji"), ("咸阳", "Xianyang"),
        ("渭南", "Weinan"), ("延安", "Yan'an"), ("汉中", "Hanzhong"), ("榆林", "Yulin"),
        ("安康", "Ankang"), ("商洛", "Shangluo"))),
    ("GS", "甘肃", "Gansu", 0.28, (
        ("兰州", "Lanzhou"), ("嘉峪关", "Jiayuguan"), ("金昌", "Jinchang"), ("白银", "Baiyin"),
        ("天水", "Tianshui"), ("武威", "Wuwei"), ("张掖", "Zhangye"), ("平凉", "Pingliang"),
        ("酒泉", "Jiuquan"), ("庆阳", "Qingyang"), ("定西", "Dingxi"), ("陇南", "Longnan"),
        ("临夏", "Linxia"), ("甘南", "Gannan"))),
    ("QH", "青海", "Qinghai", 0.26, (
        ("西宁", "Xining"), ("海东", "Haidong"), ("海北", "Haibei"), ("黄南", "Huangnan"),
        ("海南", "Hainan"), ("果洛", "Golog"), ("玉树", "Yushu"), ("海西", "Haixi"))),
    ("NX", "宁夏", "Ningxia", 0.30, (
        ("银川", "Yinchuan"), ("石嘴山", "Shizuishan"), ("吴忠", "Wuzhong"), ("固原", "Guyuan"),
        ("中卫", "Zhongwei"))),
    ("XJ", "新疆", "Xinjiang", 0.30, (
        ("乌鲁木齐", "Ürümqi"), ("克拉玛依", "Karamay"), ("吐鲁番", "Turpan"), ("哈密", "Hami"),
        ("昌吉", "Changji"), ("博尔塔拉", "Bortala"), ("巴音郭楞", "Bayingolin"),
        ("阿克苏", "Aksu"), ("克孜勒苏", "Kizilsu"), ("喀什", "Kashgar"), ("和田", "Hotan"),
        ("伊犁", "Ili"), ("塔城", "Tacheng"), ("阿勒泰", "Altay"))),
    ("XZ", "西藏", "Tibet", 0.20, (
        ("拉萨", "Lhasa"), ("日喀则", "Shigatse"), ("昌都", "Chamdo"), ("林芝", "Nyingchi"),
        ("山南", "Shannan"), ("那曲", "Nagqu"), ("阿里", "Ngari"))),
)

# County companies of the cities outside Zhejiang, by part of the city: (zh, en).
COUNTY_PARTS = (
    ("城区", "Urban"), ("东区", "East"), ("西区", "West"), ("南区", "South"), ("北区", "North"),
    ("新区", "New Area"), ("郊区", "Suburban"),
)
